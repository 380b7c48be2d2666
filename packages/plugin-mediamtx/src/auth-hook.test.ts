import { afterEach, describe, expect, it } from 'vitest';
import type { HavenSecrets } from '@haven/core';
import { AuthHookServer, type AuthFailure } from './auth-hook.js';
import type { AuthPolicy } from './auth-policy.js';
import { originPolicy, SECRETS } from './auth.fixture.js';

let secrets: HavenSecrets = SECRETS;
const policy: AuthPolicy = originPolicy();

const hooks: AuthHookServer[] = [];
afterEach(async () => {
  await Promise.all(hooks.splice(0).map((h) => h.close()));
});

async function hook(onFailure?: (f: AuthFailure) => void) {
  const h = new AuthHookServer({ policy: () => policy, secrets: () => secrets, ...(onFailure ? { onFailure } : {}) });
  hooks.push(h);
  const url = await h.listen();
  return { h, url };
}

const body = (o: Record<string, unknown>) =>
  JSON.stringify({ ip: '198.51.100.7', user: '', password: '', token: '', action: 'read', path: 'live', protocol: 'rtsp', id: null, query: '', userAgent: 'Lavf', ...o });

const post = (url: string, payload: string) => fetch(url, { method: 'POST', body: payload, headers: { 'content-type': 'application/json' } });

describe('AuthHookServer', () => {
  it('listens on loopback behind a random path token', async () => {
    const { url } = await hook();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth\/[A-Za-z0-9_-]{24}$/);
    const other = new URL(url);
    other.pathname = '/auth/guess';
    expect((await post(other.href, body({ user: 'viewer', password: secrets.viewerPassword }))).status).toBe(404);
    expect((await fetch(url)).status).toBe(404);
  });

  it('allows with 200 and denies with 401, from the current secrets', async () => {
    const { url } = await hook();
    expect((await post(url, body({ user: 'viewer', password: secrets.viewerPassword }))).status).toBe(200);
    const old = secrets.viewerPassword;
    secrets = { ...secrets, viewerPassword: 'RotatedRotated02' };
    expect((await post(url, body({ user: 'viewer', password: old }))).status).toBe(401);
    expect((await post(url, body({ user: 'viewer', password: 'RotatedRotated02' }))).status).toBe(200);
  });

  it('rejects what it does not understand: bad JSON, wrong types, huge bodies, unknown actions', async () => {
    const { url } = await hook();
    expect((await post(url, '{not json')).status).toBe(400);
    expect((await post(url, JSON.stringify({ user: 1 }))).status).toBe(400);
    expect((await post(url, '[]')).status).toBe(400);
    expect((await post(url, body({ password: 'x'.repeat(20_000) })).catch(() => ({ status: 413 }))).status).toBe(413);
    expect((await post(url, body({ action: 'api' }))).status).toBe(401);
    expect((await post(url, body({ action: 'pprof' }))).status).toBe(403);
    // unknown extra fields from a newer MediaMTX are fine
    expect((await post(url, body({ user: 'viewer', password: secrets.viewerPassword, futureField: 1 }))).status).toBe(200);
  });

  it('counts failures per IP (only attempts with credentials) and reports each, without the password', async () => {
    const seen: AuthFailure[] = [];
    const { h, url } = await hook((f) => seen.push(f));
    await post(url, body({})); // the RTSP first request without credentials
    await post(url, body({ user: 'viewer', password: 'guess1' }));
    await post(url, body({ user: 'viewer', password: 'guess2' }));
    await post(url, body({ ip: '198.51.100.8', user: 'x', password: 'guess3', action: 'publish', protocol: 'rtmp' }));
    expect(h.failureCount('198.51.100.7')).toBe(2);
    expect(h.failureCount('198.51.100.8')).toBe(1);
    expect(h.failureSnapshot()).toHaveLength(2);
    expect(seen.map((f) => [f.ip, f.action, f.reason, f.count])).toEqual([
      ['198.51.100.7', 'read', 'bad-credentials', 1],
      ['198.51.100.7', 'read', 'bad-credentials', 2],
      ['198.51.100.8', 'publish', 'bad-credentials', 1],
    ]);
    expect(JSON.stringify(seen)).not.toMatch(/guess/);
  });

  it('fails closed when the secrets cannot be read', async () => {
    const h = new AuthHookServer({ policy: () => policy, secrets: () => { throw new Error('not loaded'); } });
    hooks.push(h);
    const url = await h.listen();
    expect((await post(url, body({ user: 'viewer', password: secrets.viewerPassword }))).status).toBe(400);
  });

  it('close() is safe twice', async () => {
    const { h, url } = await hook();
    await h.close();
    await h.close();
    await expect(post(url, body({}))).rejects.toThrow();
  });
});

describe('AuthHookServer failed-login limit', () => {
  it('blocks an address after maxFailures wrong passwords, even with the right one; other addresses and the relay are untouched', async () => {
    const h = new AuthHookServer({ policy: () => policy, secrets: () => secrets, maxFailures: () => 3 });
    hooks.push(h);
    const url = await h.listen();
    const ip = '198.51.100.9';
    for (let i = 0; i < 3; i++) expect((await post(url, body({ ip, user: 'viewer', password: `wrong${i}` }))).status).toBe(401);
    expect((await post(url, body({ ip, user: 'viewer', password: secrets.viewerPassword }))).status).toBe(401);
    // A request without credentials (a player's first try) is neither counted nor the reason of the block.
    expect(h.failureCount(ip)).toBe(3);
    expect((await post(url, body({ ip: '198.51.100.10', user: 'viewer', password: secrets.viewerPassword }))).status).toBe(200);
    // A player retrying with the right password many times never trips the limit.
    for (let i = 0; i < 20; i++) expect((await post(url, body({ ip: '198.51.100.11', user: 'viewer', password: secrets.viewerPassword }))).status).toBe(200);
    expect(h.failureCount('198.51.100.11')).toBe(0);
  });
});
