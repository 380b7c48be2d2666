import type { HavenNode, NodeHealthState, ProbeResult } from '../contracts.js';
import type { HealthConfig } from '../config/schema.js';
import { probeOk } from './probes.js';

/** Hysteresis state of one node for one stream. */
export class HealthRecord {
  state: NodeHealthState = 'unknown';
  last: ProbeResult | undefined;
  lastAt: number | undefined;
  failures = 0;
  successes = 0;
  /** When its last probe started (`performance.now()`), for the gap between fresh probes. */
  probeStartedAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly node: HavenNode,
    readonly stream: string,
  ) {}

  apply(result: ProbeResult, at: number, config: Pick<HealthConfig, 'failuresToDown' | 'successesToUp'>): void {
    this.last = result;
    this.lastAt = at;
    if (probeOk(result)) {
      this.successes++;
      this.failures = 0;
      if (this.state === 'unknown' || (this.state === 'down' && this.successes >= config.successesToUp)) this.state = 'up';
    } else {
      this.failures++;
      this.successes = 0;
      if (this.state === 'unknown' || (this.state === 'up' && this.failures >= config.failuresToDown)) this.state = 'down';
    }
  }

  /** A probe made for a redirect failed: down at once (hysteresis holds only for coming back up). */
  markDown(): void {
    this.failures = Math.max(this.failures, 1);
    this.successes = 0;
    this.state = 'down';
  }
}

/** Viewers routed to each node, as timestamps in a bounded window (load estimate between probes). */
export class LoadTracker {
  readonly #routes = new Map<string, number[]>();

  constructor(
    readonly windowMs: number,
    readonly now: () => number,
    readonly maxPerNode = 100_000,
  ) {}

  note(node: string): void {
    let list = this.#routes.get(node);
    if (!list) this.#routes.set(node, (list = []));
    list.push(this.now());
    if (list.length > this.maxPerNode) list.splice(0, list.length - this.maxPerNode);
  }

  /**
   * `readers` reported at `at`: readers plus routes since. No report: routes within the window.
   * Timestamps are sorted, so the count is a binary search.
   */
  load(node: string, readers: number | undefined, at: number): number {
    const list = this.#routes.get(node);
    const oldest = this.now() - this.windowMs;
    const cutoff = readers === undefined ? oldest : at;
    if (list && list.length > 0 && (list[0] as number) < oldest) {
      let drop = 0;
      while (drop < list.length && (list[drop] as number) < oldest) drop++;
      list.splice(0, drop);
    }
    let since = 0;
    if (list) {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((list[mid] as number) <= cutoff) lo = mid + 1;
        else hi = mid;
      }
      since = list.length - lo;
    }
    return (readers ?? 0) + since;
  }

  /** Forget nodes no longer registered. */
  keep(names: Set<string>): void {
    for (const k of this.#routes.keys()) if (!names.has(k)) this.#routes.delete(k);
  }
}
