/**
 * Each node's own credential on the report listener (the VPN in the app): a call from a node's VPN
 * address is that node, whatever token it sends, so rotating the relay password never strands it; it
 * fetches the new relay password here. Loopback addresses stand in for VPN addresses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlApi } from '@haven/core';
import { callFrom, startNodeFacingApi } from '../helpers/node-api.js';
import { fakeHaven, SECRETS } from './fake-deps.js';

let api: ControlApi;
let mainPort = 0;
let reportPort = 0;
let relayToken = 'RelayOld0123456789abcdefghij';

beforeAll(async () => {
  const haven = fakeHaven();
  ({ api, mainPort, reportPort } = await startNodeFacingApi(haven.deps, {
    nodeReportToken: () => relayToken,
    nodeByAddress: (ip) => (ip === '127.0.0.52' ? 'us-east-1' : undefined),
  }));
});
afterAll(async () => {
  await api?.stop();
});

describe("a node's own credential", () => {
  it('a node recognised by its address gets the viewer and relay passwords with no token, or a stale one', async () => {
    for (const token of [undefined, 'stale-relay-password-0123456789']) {
      const r = await callFrom(reportPort, '/api/node-secrets', { from: '127.0.0.52', ...(token ? { token } : {}) });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ viewerUser: 'viewer', viewerPassword: SECRETS.viewerPassword, relayPassword: SECRETS.relayPassword });
    }
  });

  it('any other address needs a token, and the shared relay token never reveals the relay password', async () => {
    expect((await callFrom(reportPort, '/api/node-secrets', { from: '127.0.0.53' })).status).toBe(401);
    const shared = await callFrom(reportPort, '/api/node-secrets', { from: '127.0.0.53', token: relayToken });
    expect(shared.status).toBe(200);
    expect(shared.json.relayPassword).toBeUndefined();
    // After a rotation the old shared token is refused; the node's own credential still works.
    const old = relayToken;
    relayToken = 'RelayNew0123456789abcdefghij';
    expect((await callFrom(reportPort, '/api/node-secrets', { from: '127.0.0.53', token: old })).status).toBe(401);
    expect((await callFrom(reportPort, '/api/node-secrets', { from: '127.0.0.52', token: old })).status).toBe(200);
  });

  it('the address counts only on the report listener, and a node reports only for itself', async () => {
    expect((await callFrom(mainPort, '/api/node-secrets', { from: '127.0.0.52' })).status).toBe(401);
    const report = (node: string) => ({ node, streams: [{ name: 'live', ready: true, readers: 2, bytesIn: 1, bytesOut: 2 }] });
    expect((await callFrom(reportPort, '/api/node-report', { method: 'POST', from: '127.0.0.52', body: report('us-east-1') })).status).toBe(200);
    const other = await callFrom(reportPort, '/api/node-report', { method: 'POST', from: '127.0.0.52', body: report('origin') });
    expect(other.status).toBe(403);
    expect(other.json.error.code).toBe('NODE_MISMATCH');
  });
});
