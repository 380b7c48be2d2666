/**
 * MediaMTX's Control API and metrics as the plugin renders them: every call goes through the auth hook
 * and needs the plugin's internal credential; no browser origin is allowed. Real MediaMTX (v1.21.0 from the set-up).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, stopAll } from '../helpers/process.js';
import { startMediamtx, testSecrets, type Started } from './harness.js';

const S = testSecrets();
let o: Started;
let metricsPort = 0;

beforeAll(async () => {
  metricsPort = await freePort();
  o = await startMediamtx({ role: 'origin', secrets: S, options: { metrics: true, metricsAddress: `127.0.0.1:${metricsPort}` } });
}, 60_000);
afterAll(async () => {
  await o?.stop();
  await stopAll();
});

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('MediaMTX Control API and metrics behind the internal credential', () => {
  it('refuses calls without a credential or with any Haven secret, and never allows a browser origin', async () => {
    const api = `http://127.0.0.1:${o.ports.api}`;
    const metrics = `http://127.0.0.1:${metricsPort}/metrics`;
    // MediaMTX delays each refusal that carried credentials by 0-4 s: the calls go side by side.
    const calls = [`${api}/v3/config/global/get`, `${api}/v3/paths/list`, metrics].flatMap((url) => [
      fetch(url).then((r) => ({ url, who: 'nobody', r })),
      ...([['viewer', S.viewerPassword], ['relay', S.relayPassword], ['publisher', S.streamKey], ['haven-internal', S.relayPassword]] as const).map(([u, p]) =>
        fetch(url, { headers: { authorization: basic(u, p), origin: 'http://evil.example' } }).then((r) => ({ url, who: u, r })),
      ),
    ]);
    for (const { url, who, r } of await Promise.all(calls)) {
      expect(r.status, `${url} as ${who}`).toBe(401);
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
    }
    const pre = await fetch(`${api}/v3/config/global/patch`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'PATCH' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const patch = await fetch(`${api}/v3/config/global/patch`, { method: 'PATCH', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: JSON.stringify({ authMethod: 'internal' }) });
    expect(patch.status).toBe(401);
  }, 60_000);

  it("the plugin's own client gets in (its credential is drawn at start and appears in no log)", async () => {
    expect((await o.server.api.info()).version).toMatch(/^v1\./);
    expect((await o.server.stats('live')).name).toBe('live');
    expect(o.logs()).not.toMatch(/haven-internal:/);
  });
});
