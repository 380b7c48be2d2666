import type { NodeCandidate, NodeSelector, Selection, SelectInput } from '../contracts.js';
import { isValidPoint, type GeoPoint } from '../geo.js';

const RAD = Math.PI / 180;
const EARTH_RADIUS_KM = 6371.0088;
/** Great-circle km per degree of latitude: the least distance a latitude difference implies. */
const KM_PER_DEGREE = EARTH_RADIUS_KM * RAD;
const CUT_MARGIN_KM = 1e-6;
/** `haversineKm` with the viewer's terms hoisted out of the loop. Same formula, same result. */
function distanceFrom(viewer: GeoPoint): (p: GeoPoint) => number {
  const vLat = viewer.lat * RAD;
  const vLon = viewer.lon * RAD;
  const vCos = Math.cos(vLat);
  return (p) => {
    const c = Math.cos(p.lat * RAD);
    const s1 = Math.sin((p.lat * RAD - vLat) / 2);
    const s2 = Math.sin((p.lon * RAD - vLon) / 2);
    const h = s1 * s1 + vCos * c * s2 * s2;
    return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
  };
}

export interface SelectorOptions {
  /**
   * Distances that fall in the same bucket of this many km count as a tie, broken by load (then by
   * name, so the result is deterministic). Nodes in one region share coordinates. Default 1.
   */
  tieKm?: number;
  /**
   * Keep only the first N entries of `ordered` (the router tries a few, never a thousand); the
   * origin fallback is appended after them when missing. Default: every eligible node.
   */
  limit?: number;
}

interface Ranked {
  c: NodeCandidate;
  d: number;
  bucket: number;
}

function hasRoom(c: NodeCandidate): boolean {
  return c.node.capacity === 0 || c.load < c.node.capacity;
}

function compare(a: Ranked, b: Ranked): number {
  if (a.bucket !== b.bucket) return a.bucket < b.bucket ? -1 : 1;
  if (a.c.load !== b.c.load) return a.c.load - b.c.load;
  return a.c.node.name < b.c.node.name ? -1 : a.c.node.name > b.c.node.name ? 1 : 0;
}

/** Would this entry be ranked before `r`? (the top-k check, before allocating anything) */
function beats(bucket: number, c: NodeCandidate, r: Ranked): boolean {
  if (bucket !== r.bucket) return bucket < r.bucket;
  if (c.load !== r.c.load) return c.load < r.c.load;
  return c.node.name < r.c.node.name;
}

/** Insert into a sorted array of at most `limit` entries (a bounded top-k: O(n) for small k). */
function pushTopK(best: Ranked[], item: Ranked, limit: number): void {
  let lo = 0;
  let hi = best.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(best[mid] as Ranked, item) <= 0) lo = mid + 1;
    else hi = mid;
  }
  best.splice(lo, 0, item);
  if (best.length > limit) best.pop();
}

/**
 * The default node selector: nearest by great-circle distance among nodes that are not down and
 * have spare capacity, ties broken by load; the origin is a node like the others and always the
 * last resort. A viewer with no location goes to the origin (or, when it is full, the least loaded
 * node). Pure: no I/O, no clock; stickiness lives in the router.
 */
export function createSelector(options: SelectorOptions = {}): NodeSelector {
  const tieKm = options.tieKm ?? 1;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (!(tieKm > 0)) throw new RangeError(`tieKm: expected a positive number, got ${tieKm}`);
  if (!(limit >= 1)) throw new RangeError(`limit: expected at least 1, got ${limit}`);

  return function select({ viewer, candidates }: SelectInput): Selection {
    let origin: NodeCandidate | undefined;
    let healthyNodes = 0;
    let eligibleNodes = 0;
    const located = isValidPoint(viewer);
    const best: Ranked[] = [];
    const all: Ranked[] = [];
    const bounded = Number.isFinite(limit);
    const dist = located ? distanceFrom(viewer) : undefined;
    const viewerLat = located ? viewer.lat : 0;
    let cutKm = Number.POSITIVE_INFINITY;

    for (const c of candidates) {
      if (c.node.origin) origin = c;
      if (c.health === 'down') continue;
      if (!c.node.origin) healthyNodes++;
      if (!hasRoom(c)) continue;
      if (!c.node.origin) eligibleNodes++;
      const loc = c.node.location;
      let d = Number.POSITIVE_INFINITY;
      if (dist && isValidPoint(loc)) {
        // Bounded and full: a node whose latitude alone puts it past the last kept bucket cannot
        // enter (great-circle distance >= R * |latitude difference|), so its trigonometry is skipped.
        // With 1,000 nodes and top-5 most nodes end here after the first few.
        if (bounded && best.length >= limit && Math.abs(loc.lat - viewerLat) * KM_PER_DEGREE >= cutKm) continue;
        d = dist(loc);
      }
      // With no viewer location, distance plays no part: the origin first, then the least loaded.
      const bucket = located ? Math.floor(d / tieKm) : c.node.origin ? -1 : 0;
      if (bounded) {
        const last = best.length >= limit ? best[best.length - 1] : undefined;
        if (!last || beats(bucket, c, last)) {
          pushTopK(best, { c, d, bucket }, limit);
          // Anything at or beyond the next bucket boundary loses to the last kept entry; the margin
          // keeps a node on the boundary (rounding of the formula) on the full-distance path.
          if (best.length >= limit) cutKm = ((best[best.length - 1] as Ranked).bucket + 1) * tieKm + CUT_MARGIN_KM;
        }
      } else all.push({ c, d, bucket });
    }
    const ranked = bounded ? best : all.sort(compare);

    const ordered: Selection['ordered'] = ranked.map((r) =>
      Number.isFinite(r.d) ? { node: r.c.node, distanceKm: r.d } : { node: r.c.node },
    );
    if (origin && !ranked.some((r) => r.c === origin)) {
      const d = dist && isValidPoint(origin.node.location) ? dist(origin.node.location) : undefined;
      ordered.push(d === undefined ? { node: origin.node } : { node: origin.node, distanceKm: d });
    }

    let reason: Selection['reason'];
    if (!located) reason = 'fallback-no-location';
    else if (eligibleNodes > 0) reason = ordered[0]?.node.origin ? 'origin-nearest' : 'nearest';
    else if (healthyNodes > 0) reason = 'fallback-all-full';
    else reason = 'fallback-no-healthy-node';
    return { ordered, reason };
  };
}

/** The default selector with every eligible node in `ordered`. */
export const selectNearest: NodeSelector = createSelector();
