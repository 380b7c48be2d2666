/**
 * Each node's own credential on the node-facing calls (the VPN listener in the app): a call from a
 * node's VPN address is that node, and so is a call with its own bearer (`nodeCredential`, derived from
 * the origin's relay password and the node's name and key); a node reports only for itself. The relay
 * password itself is no node's credential, and a removed node's credential is refused at once.
 * Loopback addresses stand in for VPN addresses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCredential, nodeOfCredential } from '@haven/core';
import { type ControlApi } from '@haven/control';
import { callFrom, startNodeFacingApi } from '../helpers/node-api.js';
import { fakeHaven, makeNode, SECRETS } from './fake-deps.js';

let api: ControlApi;
let mainPort = 0;
let reportPort = 0;
let secret = SECRETS.relayPassword;
const east = { name: 'us-east-1', publicKey: 'E'.repeat(43) + '=' };
const west = { name: 'eu-west-1', publicKey: 'W'.repeat(43) + '=' };
let entries = [east, west];
const own = (n: typeof east) => nodeCredential(secret, n)!;

beforeAll(async () => {
  const haven = fakeHaven();
  haven.nodes.set('eu-west-1', { node: makeNode('eu-west-1'), health: 'up', viewers: 0 });
  ({ api, mainPort, reportPort } = await startNodeFacingApi(
    {
      ...haven.deps,
      nodeCredential: (node) => nodeCredential(secret, entries.find((e) => e.name === node) ?? { name: node }),
      nodeOfCredential: (token) => nodeOfCredential(secret, entries, token),
    },
    { nodeByAddress: (ip) => (ip === '127.0.0.52' ? 'us-east-1' : undefined) },
  ));
});
afterAll(async () => {
  await api?.stop();
});

const report = (node: string) => ({ node, streams: [{ name: 'live', ready: true, readers: 2, bytesIn: 1, bytesOut: 2 }] });

describe("a node's own credential", () => {
  it('a node recognised by its address gets its own credential (never the relay password), with no token or a stale one', async () => {
    for (const token of [undefined, 'stale-credential-0123456789']) {
      const r = await callFrom(reportPort, '/api/node-secrets', { from: '127.0.0.52', ...(token ? { token } : {}) });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ viewerUser: 'viewer', viewerPassword: SECRETS.viewerPassword, relayPassword: own(east) });
      expect(JSON.stringify(r.json)).not.toContain(SECRETS.relayPassword);
    }
  });

  it("from any other address a node's own bearer names it; the relay password names no node", async () => {
    expect((await callFrom(reportPort, '/api/node-secrets', { from: '127.0.0.53' })).status).toBe(401);
    const mine = await callFrom(reportPort, '/api/node-secrets', { from: '127.0.0.53', token: own(west) });
    expect(mine.status).toBe(200);
    expect(mine.json.relayPassword).toBe(own(west));
    expect((await callFrom(reportPort, '/api/node-report', { method: 'POST', from: '127.0.0.53', token: own(west), body: report('eu-west-1') })).status).toBe(200);
    // Its own credential reports only for itself.
    const other = await callFrom(reportPort, '/api/node-report', { method: 'POST', from: '127.0.0.53', token: own(west), body: report('us-east-1') });
    expect(other.status).toBe(403);
    expect(other.json.error.code).toBe('NODE_MISMATCH');
    // The Haven's relay password is no longer a bearer any node shares.
    expect((await callFrom(reportPort, '/api/node-report', { method: 'POST', from: '127.0.0.53', token: SECRETS.relayPassword, body: report('eu-west-1') })).status).toBe(401);
    expect((await callFrom(reportPort, '/api/node-secrets', { from: '127.0.0.53', token: SECRETS.relayPassword })).status).toBe(401);
  });

  it("a removed node's credential is refused at once; a rotation gives every node a new one", async () => {
    const westCred = own(west);
    entries = [east];
    expect((await callFrom(reportPort, '/api/node-report', { method: 'POST', from: '127.0.0.53', token: westCred, body: report('eu-west-1') })).status).toBe(401);
    expect((await callFrom(reportPort, '/api/node-secrets', { from: '127.0.0.53', token: westCred })).status).toBe(401);
    // Rotating the relay password: the old credential of a current node is refused, its address still names it.
    const eastOld = own(east);
    secret = 'RelayNew0123456789abcdefghijklmnopqrstuv';
    expect((await callFrom(reportPort, '/api/node-secrets', { from: '127.0.0.53', token: eastOld })).status).toBe(401);
    const byAddress = await callFrom(reportPort, '/api/node-secrets', { from: '127.0.0.52', token: eastOld });
    expect(byAddress.status).toBe(200);
    expect(byAddress.json.relayPassword).toBe(own(east));
    expect(byAddress.json.relayPassword).not.toBe(eastOld);
  });

  it('the address counts only on the report listener, and a node reports only for itself', async () => {
    expect((await callFrom(mainPort, '/api/node-secrets', { from: '127.0.0.52' })).status).toBe(401);
    expect((await callFrom(reportPort, '/api/node-report', { method: 'POST', from: '127.0.0.52', body: report('us-east-1') })).status).toBe(200);
    const other = await callFrom(reportPort, '/api/node-report', { method: 'POST', from: '127.0.0.52', body: report('origin') });
    expect(other.status).toBe(403);
    expect(other.json.error.code).toBe('NODE_MISMATCH');
  });
});
