/**
 * The relay tree over the control API: each node asks for its parent on the report listener with its
 * own credential (its VPN address; loopback addresses stand in), and the status carries the tree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelayPlanner, type ControlApi, type PlannerNode } from '@haven/control';
import { callFrom as call, startNodeFacingApi } from '../helpers/node-api.js';
import { fakeHaven, TOKEN } from './fake-deps.js';

let api: ControlApi;
let mainPort = 0;
let reportPort = 0;
const up = new Set(['a', 'b', 'c']);
/** Nodes whose last probe was refused at the connection (the process is gone). */
const gone = new Set<string>();
const nodes: PlannerNode[] = ['a', 'b', 'c'].map((name, i) => ({
  name,
  location: { lat: 50 + i, lon: 9 },
  relayChildren: 2,
  vpnAddress: `10.77.0.${i + 2}`,
  publicKey: `${String.fromCharCode(65 + i).repeat(43)}=`,
  endpoint: `172.31.${11 + i}.2:51820`,
}));
const addresses: Record<string, string> = { '127.0.0.62': 'a', '127.0.0.63': 'b', '127.0.0.64': 'c' };

beforeAll(async () => {
  const haven = fakeHaven();
  const planner = createRelayPlanner({
    origin: () => ({ name: 'origin', location: { lat: 50, lon: 8 }, relay: { maxChildren: 1, maxDepth: 3 } }),
    nodes: () => nodes,
    up: (n) => up.has(n),
    gone: (n) => gone.has(n),
    originRelay: () => ({ host: '10.77.0.1', port: 8654 }),
    nodeRelayPort: () => 8554,
  });
  const status = haven.deps.status.bind(haven.deps);
  ({ api, mainPort, reportPort } = await startNodeFacingApi(
    { ...haven.deps, status: async () => ({ ...(await status()), relay: planner.view() }), relayAssignment: (n) => planner.assignmentOf(n) },
    { nodeReportToken: () => 'RelayShared0123456789abcdefgh', nodeByAddress: (ip) => addresses[ip] },
  ));
});
afterAll(async () => {
  await api?.stop();
});

describe('GET /api/relay', () => {
  it('tells each node its parent and its direct peers; the first pulls from the origin, the others from it', async () => {
    const a = await call(reportPort, '/api/relay', { from: '127.0.0.62' });
    expect(a.status).toBe(200);
    expect(a.json.parent).toEqual({ parent: 'origin', origin: true, host: '10.77.0.1', port: 8654, depth: 1 });
    expect(a.json.peers.map((p: { name: string }) => p.name)).toEqual(['b', 'c']);
    const b = await call(reportPort, '/api/relay', { from: '127.0.0.63' });
    expect(b.json).toEqual({ parent: { parent: 'a', origin: false, host: '10.77.0.2', port: 8554, depth: 2 }, peers: [{ name: 'a', publicKey: nodes[0]!.publicKey, allowedIps: ['10.77.0.2/32'], endpoint: '172.31.11.2:51820' }] });
  });

  it('after the middle node goes down both children move, one of them to the origin', async () => {
    // A dead node: health calls it down and its port refuses connections (it asked a moment ago).
    up.delete('a');
    gone.add('a');
    const b = await call(reportPort, '/api/relay', { from: '127.0.0.63' });
    const c = await call(reportPort, '/api/relay', { from: '127.0.0.64' });
    expect(b.json.parent.parent).toBe('origin');
    expect(c.json.parent).toMatchObject({ parent: 'b', host: '10.77.0.3' });
    up.add('a');
    gone.delete('a');
  });

  it('only a node with its own credential asks; the shared token or the main listener is refused', async () => {
    expect((await call(reportPort, '/api/relay', { from: '127.0.0.70', token: 'RelayShared0123456789abcdefgh' })).status).toBe(403);
    expect((await call(reportPort, '/api/relay', { from: '127.0.0.70' })).status).toBe(401);
    expect((await call(mainPort, '/api/relay', { from: '127.0.0.62' })).status).toBe(401);
  });

  it('the status carries the tree: who feeds whom', async () => {
    const s = await call(mainPort, '/api/status', { from: '127.0.0.1', token: TOKEN });
    expect(s.status).toBe(200);
    expect(s.json.relay).toMatchObject({ origin: 'origin', originBudget: 1, originChildren: 1, unplaced: [] });
    expect(s.json.relay.edges.map((e: { node: string; parent: string }) => `${e.parent}>${e.node}`).sort()).toEqual(['b>a', 'b>c', 'origin>b']);
  });
});
