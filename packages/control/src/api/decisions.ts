import { createHmac, randomBytes } from 'node:crypto';
import { isValidPoint, resolveRegion, type ViewerLocation, type ViewerRoutedEvent } from '@haven/core';
import type { DecisionSummary, DecisionView, ViewersView } from './schemas.js';

interface Entry {
  at: number;
  view: DecisionView;
  place: string;
  /** Keyed hash of the viewer's address and stream (the address itself is never kept). */
  viewer: string;
  lat?: number;
  lon?: number;
}

/** Distinct keys kept per aggregate before new ones fold into `other` (bounded memory). */
const MAX_KEYS = 500;

function bump(map: Map<string, number>, key: string): void {
  const k = map.has(key) || map.size < MAX_KEYS ? key : 'other';
  map.set(k, (map.get(k) ?? 0) + 1);
}

/** `Lavf/60.16.100` -> `Lavf`; bounded and printable. */
export function playerOf(userAgent: string | undefined): string | undefined {
  if (!userAgent) return undefined;
  const token = userAgent.trim().split(/[\s/;(]/, 1)[0] ?? '';
  const clean = token.replace(/[^\w.+-]/g, '').slice(0, 40);
  return clean || undefined;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/**
 * Routing decisions, kept from `viewer:routed` events without the viewer's IP: a ring of recent
 * decisions, totals since start, and viewer places over a time window for the map.
 */
export class DecisionLog {
  readonly #ring: Entry[] = [];
  readonly #keep: number;
  readonly #since = new Date();
  #total = 0;
  readonly #byNode = new Map<string, number>();
  readonly #byReason = new Map<string, number>();
  readonly #byMode = new Map<string, number>();
  readonly #byCountry = new Map<string, number>();
  readonly #now: () => number;
  readonly #viewerKey = randomBytes(16);

  /**
   * @param keep decisions kept for the recent list, latency figures and the viewer map (the map
   *   counts within its window, but never more than this many decisions).
   */
  constructor(keep: number, now: () => number = Date.now) {
    this.#keep = Math.max(1, keep);
    this.#now = now;
  }

  /** Record one decision; `where` is the Locator's answer for the viewer, used only for coordinates. */
  add(event: ViewerRoutedEvent, where?: ViewerLocation): DecisionView {
    const at = this.#now();
    const view: DecisionView = {
      at: new Date(at).toISOString(),
      stream: event.stream,
      node: event.node,
      mode: event.mode,
      reason: event.reason,
      decisionMs: event.decisionMs,
    };
    const country = event.country ?? where?.country;
    const city = event.city ?? where?.city;
    if (country) view.country = country;
    if (city) view.city = city;
    if (event.distanceKm !== undefined) view.distanceKm = Math.round(event.distanceKm);
    const player = playerOf(event.userAgent);
    if (player) view.player = player;
    if (event.auth) view.auth = event.auth;

    const viewer = createHmac('sha256', this.#viewerKey).update(`${event.ip}|${event.stream}`).digest('base64url').slice(0, 16);
    const entry: Entry = { at, view, place: `${country ?? ''}|${city ?? ''}`, viewer };
    const point = isValidPoint(where) ? where : country ? resolveRegion(country) : undefined;
    if (point) {
      entry.lat = round1(point.lat);
      entry.lon = round1(point.lon);
    }
    this.#ring.push(entry);
    if (this.#ring.length > this.#keep) this.#ring.splice(0, this.#ring.length - this.#keep);

    this.#total++;
    bump(this.#byNode, event.node);
    bump(this.#byReason, event.reason);
    bump(this.#byMode, event.mode);
    bump(this.#byCountry, country ?? 'unknown');
    return view;
  }

  /** Newest first. */
  recent(limit: number): DecisionView[] {
    const out: DecisionView[] = [];
    for (let i = this.#ring.length - 1; i >= 0 && out.length < limit; i--) out.push(this.#ring[i]!.view);
    return out;
  }

  summary(): DecisionSummary {
    const ms = this.#ring.map((e) => e.view.decisionMs).sort((a, b) => a - b);
    const pick = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
    return {
      since: this.#since.toISOString(),
      total: this.#total,
      byNode: Object.fromEntries(this.#byNode),
      byReason: Object.fromEntries(this.#byReason),
      byMode: Object.fromEntries(this.#byMode),
      byCountry: Object.fromEntries(this.#byCountry),
      decisionMs: ms.length === 0 ? null : { p50: pick(0.5), p95: pick(0.95), max: ms[ms.length - 1]! },
    };
  }

  /**
   * Viewers routed within the window, grouped by city (or country). Each viewer (address and stream)
   * counts once, where it was routed last: a player reconnecting every few seconds is one viewer.
   */
  viewers(windowSec: number): ViewersView {
    const from = this.#now() - windowSec * 1000;
    const places = new Map<string, ViewersView['places'][number]>();
    const seen = new Set<string>();
    let total = 0;
    for (let i = this.#ring.length - 1; i >= 0; i--) {
      const e = this.#ring[i]!;
      if (e.at < from) break;
      if (seen.has(e.viewer)) continue;
      seen.add(e.viewer);
      total++;
      let p = places.get(e.place);
      if (!p) {
        p = { viewers: 0, nodes: {} };
        if (e.view.country) p.country = e.view.country;
        if (e.view.city) p.city = e.view.city;
        if (e.lat !== undefined && e.lon !== undefined) {
          p.lat = e.lat;
          p.lon = e.lon;
        }
        places.set(e.place, p);
      }
      p.viewers++;
      p.nodes[e.view.node] = (p.nodes[e.view.node] ?? 0) + 1;
    }
    return { windowSec, total, places: [...places.values()].sort((a, b) => b.viewers - a.viewers) };
  }
}
