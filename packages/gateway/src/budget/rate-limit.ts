import { ipGroups } from '@haven/core';

export interface FailureLimiterOptions {
  /** Failed attempts allowed per address (IPv6: per /64) within the window; the one that reaches it is refused. */
  maxFailures: number;
  /** Failed attempts allowed per network (IPv4 /24, IPv6 /48) within the window. Default `3 * maxFailures`. */
  maxPrefixFailures?: number;
  /** Sliding window, ms. Default 60000. */
  windowMs?: number;
  /** Max IPs remembered; the least recently failing are forgotten first. Default 10000. */
  maxTracked?: number;
  now?: () => number;
  /** Failures counted elsewhere for this IP in the same window (the media server's auth hook). */
  external?: (ip: string) => number;
}

/**
 * Counts failed authentications per address and per network over a sliding window, so rotating
 * addresses inside a /64 (or a /24, a /48) does not reset the count. Memory is bounded: at most
 * `maxFailures` (`maxPrefixFailures`) timestamps for at most `maxTracked` groups.
 */
export class FailureLimiter {
  readonly #max: number;
  readonly #maxPrefix: number;
  readonly #window: number;
  readonly #maxTracked: number;
  readonly #now: () => number;
  readonly #external: ((ip: string) => number) | undefined;
  /** Failure times per address group and per network, each map least-recently-failing first. */
  readonly #fails = new Map<string, number[]>();
  readonly #prefixFails = new Map<string, number[]>();

  constructor(options: FailureLimiterOptions) {
    this.#max = options.maxFailures;
    this.#maxPrefix = options.maxPrefixFailures ?? 3 * options.maxFailures;
    this.#window = options.windowMs ?? 60_000;
    this.#maxTracked = options.maxTracked ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#external = options.external;
  }

  #recent(map: Map<string, number[]>, key: string): number[] {
    const list = map.get(key);
    if (!list) return [];
    const cutoff = this.#now() - this.#window;
    while (list.length > 0 && (list[0] as number) <= cutoff) list.shift();
    if (list.length === 0) map.delete(key);
    return list;
  }

  /** True while the IP's address or network has used up its failures in the window. */
  blocked(ip: string): boolean {
    const g = ipGroups(ip);
    return this.#recent(this.#fails, g.address).length + this.#externalCount(ip) >= this.#max || this.#recent(this.#prefixFails, g.prefix).length >= this.#maxPrefix;
  }

  #externalCount(ip: string): number {
    try {
      return this.#external?.(ip) ?? 0;
    } catch {
      return 0;
    }
  }

  #record(map: Map<string, number[]>, key: string, max: number): void {
    const list = this.#recent(map, key);
    list.push(this.#now());
    while (list.length > max) list.shift();
    // Re-insert so Map order is least-recently-failing first.
    map.delete(key);
    map.set(key, list);
    while (map.size > this.#maxTracked) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
  }

  /** Record a failure of the IP's address and network; true when it is now blocked. */
  fail(ip: string): boolean {
    const g = ipGroups(ip);
    this.#record(this.#fails, g.address, this.#max);
    this.#record(this.#prefixFails, g.prefix, this.#maxPrefix);
    return this.blocked(ip);
  }

  /** Addresses (IPv6 /64s) currently remembered. */
  get size(): number {
    return this.#fails.size;
  }

  /** Forget IPs whose failures have all left the window (called on a timer by the gateway). */
  sweep(): void {
    for (const map of [this.#fails, this.#prefixFails]) for (const key of [...map.keys()]) this.#recent(map, key);
  }
}
