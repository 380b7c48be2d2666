export interface FailureLimiterOptions {
  /** Failed attempts allowed per IP within the window; the one that reaches it is refused. */
  maxFailures: number;
  /** Sliding window, ms. Default 60000. */
  windowMs?: number;
  /** Max IPs remembered; the least recently failing are forgotten first. Default 10000. */
  maxTracked?: number;
  now?: () => number;
  /** Failures counted elsewhere for this IP in the same window (the media server's auth hook). */
  external?: (ip: string) => number;
}

/**
 * Counts failed authentications per IP over a sliding window. Memory is bounded: at most
 * `maxFailures` timestamps for at most `maxTracked` IPs.
 */
export class FailureLimiter {
  readonly #max: number;
  readonly #window: number;
  readonly #maxTracked: number;
  readonly #now: () => number;
  readonly #external: ((ip: string) => number) | undefined;
  readonly #fails = new Map<string, number[]>();

  constructor(options: FailureLimiterOptions) {
    this.#max = options.maxFailures;
    this.#window = options.windowMs ?? 60_000;
    this.#maxTracked = options.maxTracked ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#external = options.external;
  }

  #recent(ip: string): number[] {
    const list = this.#fails.get(ip);
    if (!list) return [];
    const cutoff = this.#now() - this.#window;
    while (list.length > 0 && (list[0] as number) <= cutoff) list.shift();
    if (list.length === 0) this.#fails.delete(ip);
    return list;
  }

  /** True while the IP has used up its failures in the window. */
  blocked(ip: string): boolean {
    return this.#recent(ip).length + this.#externalCount(ip) >= this.#max;
  }

  #externalCount(ip: string): number {
    try {
      return this.#external?.(ip) ?? 0;
    } catch {
      return 0;
    }
  }

  /** Record a failure; true when the IP is now blocked. */
  fail(ip: string): boolean {
    const list = this.#recent(ip);
    list.push(this.#now());
    while (list.length > this.#max) list.shift();
    // Re-insert so Map order is least-recently-failing first.
    this.#fails.delete(ip);
    this.#fails.set(ip, list);
    while (this.#fails.size > this.#maxTracked) {
      const oldest = this.#fails.keys().next().value;
      if (oldest === undefined) break;
      this.#fails.delete(oldest);
    }
    return list.length + this.#externalCount(ip) >= this.#max;
  }

  /** IPs currently remembered. */
  get size(): number {
    return this.#fails.size;
  }

  /** Forget IPs whose failures have all left the window (called on a timer by the gateway). */
  sweep(): void {
    for (const ip of [...this.#fails.keys()]) this.#recent(ip);
  }
}
