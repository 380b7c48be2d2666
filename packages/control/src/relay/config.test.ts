import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@haven/core';
import { assignParents } from './tree.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'haven-relay-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const yaml = (extra: string, nodeExtra = '') => `role: origin
relay:
  maxChildren: 1
${extra}nodes:
  - name: a
    region: eu-central
    rtsp: rtsp://198.51.100.7:8554
${nodeExtra}  - name: b
    region: eu-central
    rtsp: rtsp://198.51.100.8:8554
`;

describe('relay settings in haven.yaml', () => {
  it('loads the budget and per-node relay children', async () => {
    const file = path.join(dir, 'ok.yaml');
    await writeFile(file, yaml('', '    relayChildren: 3\n'));
    const { config } = await loadConfig(file);
    if (config.role !== 'origin') throw new Error('origin expected');
    expect(config.relay).toEqual({ maxChildren: 1, maxDepth: 3 });
    expect(config.nodes.map((n) => n.relayChildren)).toEqual([3, 2]);
  });

  it('a hand-written parent (the only way to write a loop) is refused with its line, and a bad budget too', async () => {
    const file = path.join(dir, 'loop.yaml');
    await writeFile(file, yaml('', '    parent: b\n'));
    await expect(loadConfig(file)).rejects.toThrow(/loop\.yaml:8:5 nodes\[0\]\.parent: unknown key "parent"/);
    await writeFile(file, yaml('  maxDepth: 0\n'));
    await expect(loadConfig(file)).rejects.toThrow(/relay\.maxDepth/);
  });

  it('edits applied one after another (budgets to 0 and back, nodes removed and re-added) never give a loop', async () => {
    const origin = { name: 'origin', budget: 1 as number | undefined };
    const steps: Array<Array<{ name: string; budget: number; up: boolean }>> = [
      [{ name: 'a', budget: 2, up: true }, { name: 'b', budget: 2, up: true }, { name: 'c', budget: 2, up: true }],
      [{ name: 'a', budget: 0, up: true }, { name: 'b', budget: 2, up: true }, { name: 'c', budget: 2, up: true }],
      [{ name: 'b', budget: 2, up: true }, { name: 'c', budget: 2, up: true }],
      [{ name: 'a', budget: 2, up: true }, { name: 'b', budget: 2, up: false }, { name: 'c', budget: 2, up: true }],
      [{ name: 'a', budget: 2, up: true }, { name: 'b', budget: 2, up: true }, { name: 'c', budget: 2, up: true }],
    ];
    let previous: Map<string, string> | undefined = new Map([['a', 'b'], ['b', 'c'], ['c', 'a']]); // a loop handed in
    for (const nodes of steps) {
      const tree = assignParents({ origin, nodes, previous });
      for (const start of tree.parents.keys()) {
        let at: string | undefined = start;
        for (let i = 0; at !== 'origin'; i++) {
          expect(i, `${start} reaches the origin`).toBeLessThan(4);
          at = tree.parents.get(at as string);
          expect(at).toBeDefined();
        }
      }
      previous = tree.parents;
    }
  });
});
