/**
 * The control API answers only to its own names (DNS rebinding) and refuses browser calls from other
 * sites. Raw HTTP requests, so the Host and Origin headers are exactly what a browser would send.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlApi, type ControlApi } from '@haven/control';
import { fakeHaven, quietLogger } from './fake-deps.js';

let api: ControlApi;
let port = 0;
const TOKEN = 'control-token-0123456789abcdef';

function raw(path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, setHost: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const haven = fakeHaven();
  api = createControlApi(haven.deps, { listen: '127.0.0.1:0', token: TOKEN, logger: quietLogger(), processMetrics: false });
  port = (await api.start()).port;
});
afterAll(async () => {
  await api?.stop();
});

describe('control API Host and Origin checks', () => {
  it('answers to loopback names and addresses', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost']) {
      expect((await raw('/api/status', { host })).status, host).toBe(200);
    }
  });

  it('refuses Host: evil.example (DNS rebinding) on every route, with a clear message', async () => {
    for (const path of ['/api/status', '/api/viewers', '/metrics', '/', '/api/events']) {
      const r = await raw(path, { host: 'evil.example' });
      expect(r.status, path).toBe(421);
      expect(r.body).toMatch(/answers only to its own address/);
    }
    // No Host at all: Node's HTTP server already answers 400 for HTTP/1.1.
    expect([400, 421]).toContain((await raw('/api/status', {})).status);
  });

  it('refuses a foreign Origin, preflight included; its own origin works', async () => {
    const host = `127.0.0.1:${port}`;
    const pre = await raw('/api/secrets/rotate', { host, origin: 'http://evil.example', 'access-control-request-method': 'POST' }, 'OPTIONS');
    expect(pre.status).toBe(403);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const get = await raw('/api/status', { host, origin: 'http://evil.example' });
    expect(get.status).toBe(403);
    expect(get.body).toMatch(/other sites are refused/);
    expect((await raw('/api/status', { host, origin: 'null' })).status).toBe(403);
    expect((await raw('/api/status', { host, origin: `http://${host}` })).status).toBe(200);
  });
});
