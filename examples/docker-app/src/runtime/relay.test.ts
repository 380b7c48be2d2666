import { describe, expect, it } from 'vitest';
import { formatRelayTree } from './relay.js';

describe('formatRelayTree', () => {
  it('prints who feeds whom with bitrates, nodes waiting for room and demotions', () => {
    const lines = formatRelayTree({
      origin: 'origin',
      originBudget: 1,
      bitrateBps: 6_000_000,
      depth: 2,
      originChildren: 1,
      edges: [
        { node: 'a', parent: 'origin', depth: 1, bitrateBps: 6_100_000 },
        { node: 'b', parent: 'a', depth: 2, bitrateBps: 5_900_000 },
        { node: 'c', parent: 'a', depth: 2 },
      ],
      unplaced: ['d'],
      demoted: [{ node: 'e', reason: 'readers dropped from 6 to 2', until: 0 }],
    });
    expect(lines).toEqual([
      'relay tree (depth 2; origin feeds 1 of 1; stream 6.0 Mbit/s):',
      '  origin (origin)',
      '    └ a 6.1 Mbit/s',
      '      └ b 5.9 Mbit/s',
      '      └ c',
      '  waiting for a parent with room: d',
      '  demoted (feeds nobody for now): e: readers dropped from 6 to 2',
    ]);
  });
});
