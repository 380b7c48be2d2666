/**
 * Each node's own credential on the report listener (the VPN in the app): a call from a node's VPN
 * address is that node, whatever token it sends, so rotating the relay password never strands it; it
 * fetches the new relay password here. Loopback addresses stand in for VPN addresses.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlApi, type ControlApi } from '@haven/core';
import { fakeHaven, quietLogger, SECRETS, TOKEN } from './fake-deps.js';

let api: ControlApi;
let mainPort = 0;
let reportPort = 0;
let relayToken = 'RelayOld0123456789abcdefghij';

function call(port: number, method: string, path: string, o: { from: string; token?: string; body?: unknown }): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        localAddress: o.from,
        headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  const haven = fakeHaven();
  api = createControlApi(haven.deps, {
    listen: '127.0.0.1:0',
    reportListen: '127.0.0.1:0',
    token: TOKEN,
    nodeReportToken: () => relayToken,
    nodeByAddress: (ip) => (ip === '127.0.0.52' ? 'us-east-1' : undefined),
    logger: quietLogger(),
    processMetrics: false,
  });
  const started = await api.start();
  mainPort = started.port;
  reportPort = started.reportPort!;
});
afterAll(async () => {
  await api?.stop();
});

describe("a node's own credential", () => {
  it('a node recognised by its address gets the viewer and relay passwords with no token, or a stale one', async () => {
    for (const token of [undefined, 'stale-relay-password-0123456789']) {
      const r = await call(reportPort, 'GET', '/api/node-secrets', { from: '127.0.0.52', ...(token ? { token } : {}) });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ viewerUser: 'viewer', viewerPassword: SECRETS.viewerPassword, relayPassword: SECRETS.relayPassword });
    }
  });

  it('any other address needs a token, and the shared relay token never reveals the relay password', async () => {
    expect((await call(reportPort, 'GET', '/api/node-secrets', { from: '127.0.0.53' })).status).toBe(401);
    const shared = await call(reportPort, 'GET', '/api/node-secrets', { from: '127.0.0.53', token: relayToken });
    expect(shared.status).toBe(200);
    expect(shared.json.relayPassword).toBeUndefined();
    // After a rotation the old shared token is refused; the node's own credential still works.
    const old = relayToken;
    relayToken = 'RelayNew0123456789abcdefghij';
    expect((await call(reportPort, 'GET', '/api/node-secrets', { from: '127.0.0.53', token: old })).status).toBe(401);
    expect((await call(reportPort, 'GET', '/api/node-secrets', { from: '127.0.0.52', token: old })).status).toBe(200);
  });

  it('the address counts only on the report listener, and a node reports only for itself', async () => {
    expect((await call(mainPort, 'GET', '/api/node-secrets', { from: '127.0.0.52' })).status).toBe(401);
    const report = (node: string) => ({ node, streams: [{ name: 'live', ready: true, readers: 2, bytesIn: 1, bytesOut: 2 }] });
    expect((await call(reportPort, 'POST', '/api/node-report', { from: '127.0.0.52', body: report('us-east-1') })).status).toBe(200);
    const other = await call(reportPort, 'POST', '/api/node-report', { from: '127.0.0.52', body: report('origin') });
    expect(other.status).toBe(403);
    expect(other.json.error.code).toBe('NODE_MISMATCH');
  });
});
