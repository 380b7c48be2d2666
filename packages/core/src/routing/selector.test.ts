import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HavenNode, NodeCandidate } from '../contracts.js';
import { UNKNOWN_PLACE } from './nodes.js';
import { createSelector, selectNearest } from './selector.js';

const FRANKFURT = { lat: 50.11, lon: 8.68 };
const VIRGINIA = { lat: 38.9, lon: -77.04 };
const TOKYO = { lat: 35.68, lon: 139.69 };
const PARIS = { lat: 48.86, lon: 2.35 };

function node(name: string, location = FRANKFURT, extra: Partial<HavenNode> = {}): HavenNode {
  return { name, location, rtspUrl: `rtsp://${name}:8554`, capacity: 0, ...extra };
}
function cand(n: HavenNode, health: NodeCandidate['health'] = 'up', load = 0): NodeCandidate {
  return { node: n, health, load };
}
const names = (s: { ordered: Array<{ node: HavenNode }> }) => s.ordered.map((o) => o.node.name);

const origin = node('origin', VIRGINIA, { origin: true });

describe('selectNearest', () => {
  it('picks the nearest healthy node and keeps the origin as the last resort', () => {
    const s = selectNearest({ viewer: PARIS, candidates: [cand(origin), cand(node('fra')), cand(node('tyo', TOKYO))] });
    expect(names(s)).toEqual(['fra', 'origin', 'tyo']);
    expect(s.reason).toBe('nearest');
    expect(s.ordered[0]?.distanceKm).toBeGreaterThan(400);
    expect(s.ordered[0]?.distanceKm).toBeLessThan(500);
  });

  it('says origin-nearest when the origin is closest', () => {
    const s = selectNearest({ viewer: { lat: 40.7, lon: -74 }, candidates: [cand(origin), cand(node('fra'))] });
    expect(names(s)[0]).toBe('origin');
    expect(s.reason).toBe('origin-nearest');
  });

  it('skips nodes that are down or full, and says why it fell back', () => {
    const full = node('full', FRANKFURT, { capacity: 2 });
    expect(names(selectNearest({ viewer: PARIS, candidates: [cand(origin), cand(node('fra'), 'down'), cand(full, 'up', 2)] }))).toEqual(['origin']);
    expect(selectNearest({ viewer: PARIS, candidates: [cand(origin), cand(full, 'up', 2)] }).reason).toBe('fallback-all-full');
    expect(selectNearest({ viewer: PARIS, candidates: [cand(origin), cand(node('fra'), 'down')] }).reason).toBe('fallback-no-healthy-node');
    expect(selectNearest({ viewer: PARIS, candidates: [cand(origin)] }).reason).toBe('fallback-no-healthy-node');
  });

  it('treats unknown health as eligible (the fresh probe decides)', () => {
    expect(names(selectNearest({ viewer: PARIS, candidates: [cand(origin), cand(node('fra'), 'unknown')] }))[0]).toBe('fra');
  });

  it('breaks distance ties by load, then by name', () => {
    const s = selectNearest({ viewer: PARIS, candidates: [cand(origin), cand(node('b'), 'up', 5), cand(node('a'), 'up', 5), cand(node('c'), 'up', 1)] });
    expect(names(s)).toEqual(['c', 'a', 'b', 'origin']);
  });

  it('sends a viewer without location to the origin, or the least loaded node when the origin is full', () => {
    const s = selectNearest({ candidates: [cand(node('fra'), 'up', 3), cand(origin), cand(node('tyo', TOKYO), 'up', 1)] });
    expect(names(s)).toEqual(['origin', 'tyo', 'fra']);
    expect(s.reason).toBe('fallback-no-location');
    const fullOrigin = { ...origin, capacity: 1 };
    const s2 = selectNearest({ candidates: [cand(node('fra'), 'up', 3), cand(fullOrigin, 'up', 1), cand(node('tyo', TOKYO), 'up', 1)] });
    expect(names(s2)).toEqual(['tyo', 'fra', 'origin']);
  });

  it('ignores invalid viewer coordinates and never ranks an unplaced origin by distance', () => {
    expect(selectNearest({ viewer: { lat: Number.NaN, lon: 0 }, candidates: [cand(origin), cand(node('fra'))] }).reason).toBe('fallback-no-location');
    const unplaced = { ...origin, location: UNKNOWN_PLACE };
    const s = selectNearest({ viewer: VIRGINIA, candidates: [cand(unplaced), cand(node('tyo', TOKYO))] });
    expect(names(s)).toEqual(['tyo', 'origin']);
    expect(s.ordered[1]?.distanceKm).toBeUndefined();
  });

  it('with a limit returns the same head as the full sort, plus the origin', () => {
    const nodes = Array.from({ length: 200 }, (_, i) => cand(node(`n${i}`, { lat: ((i * 37) % 170) - 85, lon: ((i * 91) % 350) - 175 }), 'up', i % 7));
    const all = selectNearest({ viewer: PARIS, candidates: [cand(origin), ...nodes] });
    const top = createSelector({ limit: 5 })({ viewer: PARIS, candidates: [cand(origin), ...nodes] });
    expect(names(top).slice(0, 5)).toEqual(names(all).slice(0, 5));
    expect(names(top).at(-1)).toBe('origin');
    expect(top.reason).toBe(all.reason);
  });

  it('with a limit equals the head of the full sort for any nodes, ties and tieKm (the latitude cut-off loses nothing)', () => {
    const place = fc.record({ lat: fc.double({ min: -90, max: 90, noNaN: true }), lon: fc.double({ min: -180, max: 180, noNaN: true }) });
    fc.assert(
      fc.property(
        place,
        // Few distinct places, so nodes share coordinates and lie on bucket boundaries.
        fc.array(place, { minLength: 1, maxLength: 6 }),
        fc.array(fc.record({ at: fc.nat(5), load: fc.nat(3), down: fc.boolean() }), { minLength: 1, maxLength: 60 }),
        fc.constantFrom(0.001, 1, 50, 1000),
        fc.integer({ min: 1, max: 6 }),
        (viewer, places, specs, tieKm, limit) => {
          const cs = specs.map((x, i) => cand(node(`n${i}`, places[x.at % places.length]), x.down ? 'down' : 'up', x.load));
          const all = createSelector({ tieKm })({ viewer, candidates: cs });
          const top = createSelector({ tieKm, limit })({ viewer, candidates: cs });
          expect(top.ordered).toEqual(all.ordered.slice(0, limit));
          expect(top.reason).toBe(all.reason);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is pure: the same input gives the same output and the input is not changed', () => {
    const input = { viewer: PARIS, candidates: [cand(origin), cand(node('fra')), cand(node('tyo', TOKYO))] };
    const copy = structuredClone(input);
    expect(selectNearest(input)).toEqual(selectNearest(input));
    expect(input).toEqual(copy);
  });

  it('rejects bad options', () => {
    expect(() => createSelector({ tieKm: 0 })).toThrow(/tieKm/);
    expect(() => createSelector({ limit: 0 })).toThrow(/limit/);
  });
});

describe('selector distances', () => {
  it('match haversineKm', async () => {
    const { haversineKm } = await import('../geo.js');
    const places = [FRANKFURT, VIRGINIA, TOKYO, PARIS, { lat: -33.9, lon: 151.2 }, { lat: 64.1, lon: -21.9 }, { lat: 0, lon: 179.9 }];
    for (const v of places) {
      const s = selectNearest({ viewer: v, candidates: places.map((p, i) => cand(node(`n${i}`, p))) });
      for (const o of s.ordered) expect(o.distanceKm).toBeCloseTo(haversineKm(v, o.node.location), 6);
    }
  });
});
