import type { HavenEvents, RouteMode, ViewerRoutedEvent } from '../events.js';

export type RefuseReason = HavenEvents['viewer:refused'][0]['reason'];

export interface RoutingStats {
  routed: number;
  byMode: Partial<Record<RouteMode, number>>;
  byNode: Record<string, number>;
  byReason: Record<string, number>;
  refused: Partial<Record<RefuseReason, number>>;
  /** Fresh probes started right before a redirect (concurrent viewers share one), and how many failed. */
  probesBeforeRedirect: number;
  probesBeforeRedirectFailed: number;
  /** Decision time over the recent decisions (ms). */
  decisionMs: { count: number; p50: number; p99: number; max: number };
}

function bump<K extends string>(o: Partial<Record<K, number>>, k: K): void {
  o[k] = (o[k] ?? 0) + 1;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** In-memory counters and a ring buffer of recent decisions (read by the control API and metrics). */
export class RoutingCounters {
  readonly #ring: ViewerRoutedEvent[] = [];
  #ringAt = 0;
  readonly #stats: Omit<RoutingStats, 'decisionMs'> = {
    routed: 0,
    byMode: {},
    byNode: {},
    byReason: {},
    refused: {},
    probesBeforeRedirect: 0,
    probesBeforeRedirectFailed: 0,
  };

  constructor(readonly ringSize = 256) {}

  routed(ev: ViewerRoutedEvent): void {
    const s = this.#stats;
    s.routed++;
    bump(s.byMode, ev.mode);
    bump(s.byNode, ev.node);
    bump(s.byReason, ev.reason);
    if (this.#ring.length < this.ringSize) this.#ring.push(ev);
    else this.#ring[this.#ringAt] = ev;
    this.#ringAt = (this.#ringAt + 1) % this.ringSize;
  }

  refused(reason: RefuseReason): void {
    bump(this.#stats.refused, reason);
  }

  probed(ok: boolean): void {
    this.#stats.probesBeforeRedirect++;
    if (!ok) this.#stats.probesBeforeRedirectFailed++;
  }

  /** Recent decisions, oldest first. They carry viewer IPs: aggregate before showing them to anyone. */
  recent(): ViewerRoutedEvent[] {
    return this.#ring.length < this.ringSize ? [...this.#ring] : [...this.#ring.slice(this.#ringAt), ...this.#ring.slice(0, this.#ringAt)];
  }

  snapshot(): RoutingStats {
    const d = this.#ring.map((e) => e.decisionMs).sort((a, b) => a - b);
    const s = this.#stats;
    return {
      ...s,
      byMode: { ...s.byMode },
      byNode: { ...s.byNode },
      byReason: { ...s.byReason },
      refused: { ...s.refused },
      decisionMs: { count: d.length, p50: quantile(d, 0.5), p99: quantile(d, 0.99), max: d[d.length - 1] ?? 0 },
    };
  }
}
