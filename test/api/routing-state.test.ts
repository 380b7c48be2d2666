/**
 * `GET /api/routing-state` on the report listener (the VPN in the app): only a node named by its
 * source address gets the state; `If-None-Match` answers 304; a node's follower takes it, and refuses
 * a state of another Haven. Loopback addresses stand in for VPN addresses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpsUrlBook, createRoutingStateFollower, createRoutingStatePublisher, digestHa1, havenIdOf } from '@haven/core';
import { type ControlApi } from '@haven/control';
import { callFrom as get, startNodeFacingApi } from '../helpers/node-api.js';
import { fakeHaven, SECRETS, TOKEN } from './fake-deps.js';

const HAVEN = havenIdOf('origin-public-key-for-this-test');
let api: ControlApi;
let mainPort = 0;
let reportPort = 0;
let load = 0;
// As the app's origin keeps it (runtime.ts): each node's HTTPS URL from its reports.
const httpsBook = createHttpsUrlBook({ ttlMs: 35_000 });

beforeAll(async () => {
  const haven = fakeHaven();
  const routingState = createRoutingStatePublisher({
    haven: HAVEN,
    build: () => ({
      nodes: [
        {
          name: 'us-east-1',
          region: 'us-east-1',
          location: { lat: 38.9, lon: -77 },
          rtspUrl: 'rtsp://203.0.113.9:8554',
          ...(httpsBook.get('us-east-1') ? { httpsUrl: httpsBook.get('us-east-1') } : {}),
          healthy: true,
          capacity: 0,
          load,
          entry: true,
        },
      ],
      viewer: { user: 'viewer', realm: 'Stream Haven', ha1: digestHa1('viewer', 'Stream Haven', SECRETS.viewerPassword) },
      players: [],
    }),
  });
  ({ api, mainPort, reportPort } = await startNodeFacingApi(
    {
      ...haven.deps,
      routingState,
      nodeReport: (r) => {
        haven.deps.nodeReport?.(r);
        httpsBook.report(r.node, r.httpsUrl);
      },
    },
    { nodeReportToken: () => SECRETS.relayPassword, nodeByAddress: (ip) => (ip === '127.0.0.52' ? 'us-east-1' : undefined) },
  ));
});
afterAll(async () => {
  await api?.stop();
});

describe('routing state over the report listener', () => {
  it('a node gets the versioned state with an ETag, 304 while unchanged, a new version after a change', async () => {
    const follower = createRoutingStateFollower({ haven: HAVEN, maxAgeMs: 6000 });
    const a = await get(reportPort, '/api/routing-state', { from: '127.0.0.52' });
    expect(a.status).toBe(200);
    expect(a.json.haven).toBe(HAVEN);
    expect(a.etag).toBe(`"${HAVEN}-${a.json.version}"`);
    expect(JSON.stringify(a.json)).not.toContain(SECRETS.viewerPassword);
    expect(follower.accept(a.json)).toEqual({ ok: true, changed: true });

    const same = await get(reportPort, '/api/routing-state', { from: '127.0.0.52', etag: a.etag! });
    expect(same.status).toBe(304);
    expect(same.json).toBeUndefined();

    load = 3;
    const b = await get(reportPort, '/api/routing-state', { from: '127.0.0.52', etag: a.etag! });
    expect(b.status).toBe(200);
    expect(b.json.version).toBeGreaterThan(a.json.version);
    expect(b.json.nodes[0].load).toBe(3);
    expect(follower.accept(b.json)).toEqual({ ok: true, changed: true });
    // The older answer, replayed, is refused.
    expect(follower.accept(a.json)).toMatchObject({ ok: false, reason: 'stale-version' });
  });

  it('only a node on its own address gets it: not a token holder, not the main listener', async () => {
    expect((await get(reportPort, '/api/routing-state', { from: '127.0.0.53' })).status).toBe(401);
    const shared = await get(reportPort, '/api/routing-state', { from: '127.0.0.53', token: SECRETS.relayPassword });
    expect(shared.status).toBe(403);
    expect(shared.json.error.code).toBe('NODE_ONLY');
    expect((await get(mainPort, '/api/routing-state', { from: '127.0.0.52', token: TOKEN })).status).toBe(403);
  });

  it("a node that joined another Haven refuses this state", async () => {
    const other = createRoutingStateFollower({ haven: havenIdOf('a-different-origin'), maxAgeMs: 6000 });
    const a = await get(reportPort, '/api/routing-state', { from: '127.0.0.52' });
    const r = other.accept(a.json);
    expect(r).toMatchObject({ ok: false, reason: 'wrong-haven' });
    expect(other.health()).toMatchObject({ ok: false, reason: 'wrong-haven' });
  });

  it('a node that reports its HTTPS URL (certified) is offered for HTTPS in the state; a report without it withdraws it; a malformed one is refused', async () => {
    const report = (extra: object) =>
      get(reportPort, '/api/node-report', { from: '127.0.0.52', method: 'POST', token: SECRETS.relayPassword, body: { node: 'us-east-1', streams: [], ...extra } });
    expect((await report({ httpsUrl: 'https://203.0.113.9:8443' })).status).toBe(200);
    const a = await get(reportPort, '/api/routing-state', { from: '127.0.0.52' });
    expect(a.json.nodes[0].httpsUrl).toBe('https://203.0.113.9:8443');
    expect((await report({})).status).toBe(200);
    const b = await get(reportPort, '/api/routing-state', { from: '127.0.0.52' });
    expect(b.json.nodes[0].httpsUrl).toBeUndefined();
    for (const bad of ['http://203.0.113.9:8888', 'https://203.0.113.9:8443/live', 'https://user:pw@203.0.113.9']) {
      const r = await report({ httpsUrl: bad });
      expect(r.status, bad).toBe(400);
    }
    expect((await get(reportPort, '/api/routing-state', { from: '127.0.0.52' })).json.nodes[0].httpsUrl).toBeUndefined();
  });
});
