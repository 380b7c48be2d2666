import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { originConfigSchema } from '@haven/core';
import { assignParents, originBudget, treeDepth, type RelayTree, type TreeInput, type TreeNode } from './tree.js';

const point = fc.option(fc.record({ lat: fc.double({ min: -80, max: 80, noNaN: true }), lon: fc.double({ min: -179, max: 179, noNaN: true }) }), { nil: undefined });
const nodeArb = (i: number) =>
  fc.record({ budget: fc.integer({ min: 0, max: 4 }), up: fc.boolean(), location: point }).map((r): TreeNode => ({ name: `n${i}`, ...r }));
const nodesArb = fc.integer({ min: 0, max: 40 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => nodeArb(i))));
const inputArb = fc.record({
  nodes: nodesArb,
  budget: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
  maxDepth: fc.integer({ min: 1, max: 5 }),
  location: point,
});

const toInput = (r: { nodes: TreeNode[]; budget: number | undefined; maxDepth: number; location: TreeNode['location'] }, previous?: ReadonlyMap<string, string>): TreeInput => ({
  origin: { name: 'origin', location: r.location, budget: r.budget },
  nodes: r.nodes,
  maxDepth: r.maxDepth,
  previous,
});

/** Every placed node's chain of parents reaches the origin within maxDepth steps (no loop). */
function checkTree(tree: RelayTree, input: TreeInput): void {
  const maxDepth = input.maxDepth ?? 3;
  const up = new Map(input.nodes.filter((n) => n.up).map((n) => [n.name, n]));
  for (const [child] of tree.parents) {
    let at = child;
    let steps = 0;
    while (at !== 'origin') {
      expect(up.has(at), `${at} is up`).toBe(true);
      at = tree.parents.get(at) as string;
      expect(at, `${child}'s chain is unbroken`).toBeDefined();
      steps++;
      expect(steps).toBeLessThanOrEqual(maxDepth);
    }
    expect(tree.depth.get(child)).toBe(steps);
  }
  // Budgets respected.
  for (const [p, kids] of tree.children) {
    const budget = p === 'origin' ? (input.origin.budget ?? Infinity) : (up.get(p)?.budget ?? 0);
    expect(kids.length).toBeLessThanOrEqual(budget);
  }
  // Every up node is placed or unplaced, never both, and down nodes are neither.
  for (const n of input.nodes) {
    if (!n.up) {
      expect(tree.parents.has(n.name)).toBe(false);
      expect(tree.unplaced).not.toContain(n.name);
    } else expect(tree.parents.has(n.name) !== tree.unplaced.includes(n.name)).toBe(true);
  }
  // Someone is unplaced only when no parent had room.
  if (tree.unplaced.length > 0) {
    expect((tree.children.get('origin')?.length ?? 0)).toBe(input.origin.budget);
    for (const [name, d] of tree.depth) {
      if (name === 'origin' || d >= maxDepth) continue;
      expect(tree.children.get(name)?.length ?? 0).toBe(up.get(name)?.budget ?? 0);
    }
  }
}

const plain = (t: RelayTree) => ({ parents: [...t.parents].sort(), unplaced: t.unplaced });

describe('assignParents', () => {
  it('feeds one node from an origin with a budget of 1 and two from that node', () => {
    const tree = assignParents({
      origin: { name: 'origin', budget: 1, location: { lat: 50, lon: 8 } },
      nodes: [
        { name: 'a', budget: 2, up: true, location: { lat: 50, lon: 9 } },
        { name: 'b', budget: 2, up: true, location: { lat: 51, lon: 9 } },
        { name: 'c', budget: 2, up: true, location: { lat: 52, lon: 9 } },
      ],
    });
    expect(Object.fromEntries(tree.parents)).toEqual({ a: 'origin', b: 'a', c: 'a' });
    expect(treeDepth(tree)).toBe(2);
  });

  it('re-parents the children of a node that went down, one of them to the origin', () => {
    const nodes: TreeNode[] = [
      { name: 'a', budget: 2, up: true, location: { lat: 50, lon: 9 } },
      { name: 'b', budget: 2, up: true, location: { lat: 51, lon: 9 } },
      { name: 'c', budget: 2, up: true, location: { lat: 52, lon: 9 } },
    ];
    const origin = { name: 'origin', budget: 1, location: { lat: 50, lon: 8 } };
    const first = assignParents({ origin, nodes });
    const second = assignParents({ origin, nodes: nodes.map((n) => (n.name === 'a' ? { ...n, up: false } : n)), previous: first.parents });
    expect(Object.fromEntries(second.parents)).toEqual({ b: 'origin', c: 'b' });
  });

  it('keeps everyone on the origin when its budget is unset (today\'s behaviour)', () => {
    const tree = assignParents({ origin: { name: 'origin', budget: undefined }, nodes: Array.from({ length: 50 }, (_, i) => ({ name: `n${i}`, budget: 2, up: true })) });
    expect(tree.children.get('origin')).toHaveLength(50);
    expect(treeDepth(tree)).toBe(1);
  });

  it('property: no loop, depth bound, budgets respected, down nodes never parents', () => {
    fc.assert(
      fc.property(inputArb, (r) => {
        const input = toInput(r);
        checkTree(assignParents(input), input);
      }),
      { numRuns: 300 },
    );
  });

  it('property: deterministic and independent of the order nodes are given in', () => {
    fc.assert(
      fc.property(inputArb, fc.integer(), (r, seed) => {
        const a = assignParents(toInput(r));
        const shuffled = [...r.nodes].sort((x, y) => ((x.name.length * 31 + seed) % 7) - ((y.name.length * 17 + seed) % 5) || (x.name < y.name ? 1 : -1));
        const b = assignParents(toInput({ ...r, nodes: shuffled }));
        expect(plain(b)).toEqual(plain(a));
        expect(plain(assignParents(toInput(r)))).toEqual(plain(a));
      }),
      { numRuns: 200 },
    );
  });

  it('property: a loop handed in as the previous tree (a config or live edit) is never followed', () => {
    fc.assert(
      fc.property(inputArb, fc.array(fc.tuple(fc.nat(40), fc.nat(40)), { maxLength: 60 }), (r, edges) => {
        const previous = new Map<string, string>();
        for (const [c, p] of edges) previous.set(`n${c}`, p % 7 === 0 ? 'origin' : `n${p}`);
        // Always include a 2-cycle and a self-loop.
        previous.set('n0', 'n1');
        previous.set('n1', 'n0');
        previous.set('n2', 'n2');
        const input = toInput(r, previous);
        checkTree(assignParents(input), input);
      }),
      { numRuns: 300 },
    );
  });

  it('property: a run of live edits (budgets, nodes up/down/added) never makes a loop and keeps untouched subtrees', () => {
    const edit = fc.record({ i: fc.nat(30), budget: fc.integer({ min: 0, max: 3 }), up: fc.boolean() });
    fc.assert(
      fc.property(inputArb, fc.array(edit, { minLength: 1, maxLength: 30 }), (r, edits) => {
        let nodes = r.nodes;
        let previous: Map<string, string> | undefined;
        for (const e of edits) {
          const name = `n${e.i}`;
          nodes = nodes.some((n) => n.name === name)
            ? nodes.map((n) => (n.name === name ? { ...n, budget: e.budget, up: e.up } : n))
            : [...nodes, { name, budget: e.budget, up: e.up }];
          const input = toInput({ ...r, nodes }, previous);
          const tree = assignParents(input);
          checkTree(tree, input);
          // Nothing changed: nothing moves (the tree is a fixed point of itself).
          expect(plain(assignParents({ ...input, previous: tree.parents }))).toEqual(plain(tree));
          // An edit moves only nodes below the edited node, or nodes whose parent ran out of room, or unplaced ones.
          if (previous) {
            for (const [c, p] of tree.parents) {
              const before = previous.get(c);
              if (before === undefined || before === p) continue;
              let chain: string | undefined = c;
              let touched = false;
              for (let k = 0; chain !== undefined && chain !== 'origin' && k < 50; k++) {
                if (chain === name) touched = true;
                chain = previous.get(chain);
              }
              expect(touched, `${c} moved from ${before} to ${p} though the edit of ${name} is not above it`).toBe(true);
            }
          }
          previous = tree.parents;
        }
      }),
      { numRuns: 150 },
    );
    // 150 runs of up to 30 edits: about a second alone, much longer on a busy machine.
  }, 60_000);
});

describe('originBudget', () => {
  it('takes maxChildren, the uplink over the bitrate, or the smaller of both', () => {
    expect(originBudget({}, 6e6)).toBeUndefined();
    expect(originBudget({ maxChildren: 3 }, undefined)).toBe(3);
    expect(originBudget({ uplinkMbps: 40 }, 6e6)).toBe(5);
    expect(originBudget({ uplinkMbps: 40 }, undefined)).toBeUndefined();
    expect(originBudget({ uplinkMbps: 40, maxChildren: 2 }, 6e6)).toBe(2);
    expect(originBudget({ uplinkMbps: 1 }, 6e6)).toBe(1);
  });
});

describe('relay config', () => {
  const base = { role: 'origin' as const, nodes: [{ name: 'a', region: 'eu-central', rtsp: 'rtsp://198.51.100.7:8554' }] };
  it('defaults keep today\'s behaviour: no origin budget, nodes may feed two', () => {
    const c = originConfigSchema.parse(base);
    expect(c.relay).toEqual({ maxDepth: 3 });
    expect(c.nodes[0]?.relayChildren).toBe(2);
  });
  it('refuses a zero or fractional origin budget and any hand-written parent (a loop cannot be configured)', () => {
    expect(originConfigSchema.safeParse({ ...base, relay: { maxChildren: 0 } }).success).toBe(false);
    expect(originConfigSchema.safeParse({ ...base, relay: { maxChildren: 1.5 } }).success).toBe(false);
    expect(originConfigSchema.safeParse({ ...base, nodes: [{ ...base.nodes[0], parent: 'a' }] }).success).toBe(false);
    expect(originConfigSchema.safeParse({ ...base, nodes: [{ ...base.nodes[0], relayChildren: -1 }] }).success).toBe(false);
  });
});
