import { describe, expect, it } from 'vitest';
import { createRelayPlanner, type PlannerNode } from './planner.js';

function setup(maxChildren?: number) {
  const up = new Set(['a', 'b', 'c']);
  const gone = new Set<string>();
  const nodes: PlannerNode[] = [
    { name: 'a', location: { lat: 50, lon: 9 }, relayChildren: 2, vpnAddress: '10.77.0.2' },
    { name: 'b', location: { lat: 51, lon: 9 }, relayChildren: 2, vpnAddress: '10.77.0.3' },
    { name: 'c', location: { lat: 52, lon: 9 }, relayChildren: 2, vpnAddress: '10.77.0.4' },
  ];
  let t = 0;
  const planner = createRelayPlanner({
    origin: () => ({ name: 'origin', location: { lat: 50, lon: 8 }, relay: { maxChildren, maxDepth: 3 } }),
    nodes: () => nodes,
    up: (n) => up.has(n),
    gone: (n) => gone.has(n),
    originRelay: () => ({ host: '10.77.0.1', port: 8654 }),
    nodeRelayPort: () => 8554,
    clock: () => t,
  });
  return { planner, up, gone, nodes, tick: (ms: number) => (t += ms) };
}

describe('createRelayPlanner', () => {
  it('tells each node where to pull: the origin for the first, that node for the others', () => {
    const { planner } = setup(1);
    expect(planner.parentOf('a')).toEqual({ parent: 'origin', origin: true, host: '10.77.0.1', port: 8654, depth: 1 });
    expect(planner.parentOf('b')).toEqual({ parent: 'a', origin: false, host: '10.77.0.2', port: 8554, depth: 2 });
    expect(planner.childrenOf('a')).toBe(2);
    expect(planner.view()).toMatchObject({ originBudget: 1, depth: 2, originChildren: 1, unplaced: [] });
  });

  it('re-parents when the parent goes down: one child to the origin, the other below it', () => {
    const { planner, up } = setup(1);
    planner.plan();
    up.delete('a');
    expect(planner.parentOf('b')?.parent).toBe('origin');
    expect(planner.parentOf('c')?.parent).toBe('b');
    expect(planner.parentOf('a')).toBeUndefined();
  });

  it('keeps a node that asks for its place while its probes fail (it shows the offline segment and refuses them), so it gets a parent again', () => {
    const { planner, up, tick } = setup(1);
    planner.plan();
    up.delete('a'); // died
    planner.assignmentOf('b');
    planner.assignmentOf('c');
    expect(planner.parentOf('b')?.parent).toBe('origin');
    expect(planner.parentOf('c')?.parent).toBe('b');
    // b and c lost the stream while switching: their probes are refused (health: down). They keep asking.
    up.delete('b');
    up.delete('c');
    tick(2000);
    expect(planner.assignmentOf('c').parent?.parent).toBe('b');
    expect(planner.assignmentOf('b').parent?.parent).toBe('origin');
    // A node that stops asking is out after askAliveMs (4 s), and its child moves up.
    tick(2000);
    planner.assignmentOf('c');
    tick(2500);
    expect(planner.assignmentOf('c').parent?.parent).toBe('origin');
    expect(planner.parentOf('b')).toBeUndefined();
  });

  it('drops a node whose probe is refused at the connection at once, even if it asked a moment ago', () => {
    const { planner, up, gone } = setup(1);
    planner.assignmentOf('a');
    planner.assignmentOf('b');
    expect(planner.parentOf('b')?.parent).toBe('a');
    up.delete('a');
    expect(planner.parentOf('a')?.parent).toBe('origin'); // asked, no probe says it is gone: kept
    gone.add('a');
    expect(planner.parentOf('a')).toBeUndefined();
    expect(planner.parentOf('b')?.parent).toBe('origin');
  });

  it('without a budget every node pulls from the origin (today\'s behaviour)', () => {
    const { planner } = setup(undefined);
    expect(planner.view()).toMatchObject({ originBudget: null, depth: 1, originChildren: 3 });
  });

  it('demotes a parent whose reports show it cannot serve its children, and measures bitrates', () => {
    const { planner, tick } = setup(1);
    planner.observeOrigin(0, 0);
    planner.observeOrigin(10_000, 7_500_000); // 6 Mbit/s
    planner.plan();
    planner.observe('a', { at: 0, ready: true, readers: 2, bytesIn: 0, bytesOut: 0 });
    tick(10_000);
    // 'a' receives the stream fully but sends 2 Mbit/s per child.
    planner.observe('a', { at: 10_000, ready: true, readers: 2, bytesIn: 7_500_000, bytesOut: 5_000_000 });
    expect(planner.view().demoted).toEqual([]); // one slow window is not enough
    tick(10_000);
    planner.observe('a', { at: 20_000, ready: true, readers: 2, bytesIn: 15_000_000, bytesOut: 10_000_000 });
    const v = planner.view();
    expect(v.demoted.map((d) => d.node)).toEqual(['a']);
    expect(v.bitrateBps).toBe(6_000_000);
    expect(v.edges.find((e) => e.node === 'a')?.bitrateBps).toBe(6_000_000);
    // 'a' keeps its place under the origin but feeds nobody: b and c wait for room (the origin's budget is 1).
    expect(planner.childrenOf('a')).toBe(0);
    expect(v.unplaced).toEqual(['b', 'c']);
    expect(planner.parentOf('b')).toBeUndefined();
  });
});

describe('assignmentOf', () => {
  it('names the parent and the direct WireGuard peers: parent node and children, never the origin', () => {
    const { planner, nodes } = setup(1);
    nodes.forEach((n, i) => Object.assign(n, { publicKey: `key-${n.name}`, endpoint: `172.31.${11 + i}.2:51820` }));
    expect(planner.assignmentOf('a')).toEqual({
      parent: { parent: 'origin', origin: true, host: '10.77.0.1', port: 8654, depth: 1 },
      peers: [
        { name: 'b', publicKey: 'key-b', allowedIps: ['10.77.0.3/32'], endpoint: '172.31.12.2:51820' },
        { name: 'c', publicKey: 'key-c', allowedIps: ['10.77.0.4/32'], endpoint: '172.31.13.2:51820' },
      ],
    });
    expect(planner.assignmentOf('b')).toEqual({
      parent: { parent: 'a', origin: false, host: '10.77.0.2', port: 8554, depth: 2 },
      peers: [{ name: 'a', publicKey: 'key-a', allowedIps: ['10.77.0.2/32'], endpoint: '172.31.11.2:51820' }],
    });
  });
});
