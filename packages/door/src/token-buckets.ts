export interface TokenBucketsOptions {
  /** Tokens each key regains per second. */
  ratePerSec: number;
  /** Tokens a key holds at most (what it may spend at once). */
  burst: number;
  /** Keys remembered; the least recently used are forgotten first (a forgotten key starts full). */
  maxTracked: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets per key (an address group, a prefix, a calling node): the one rate limiter of the
 * doors and of the origin's lookups. Memory is bounded by `maxTracked`; a key whose bucket has
 * refilled is forgotten by `sweep()`.
 */
export class TokenBuckets {
  readonly #o: TokenBucketsOptions;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(o: TokenBucketsOptions) {
    if (!(o.ratePerSec > 0) || !(o.burst >= 1)) throw new RangeError('TokenBuckets: ratePerSec must be above 0 and burst at least 1');
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  #level(b: Bucket | undefined, t: number): number {
    return b ? Math.min(this.#o.burst, b.tokens + (Math.max(0, t - b.at) / 1000) * this.#o.ratePerSec) : this.#o.burst;
  }

  /** Spend one token of `key`; false (nothing spent) when it has none left. */
  take(key: string): boolean {
    const t = this.#now();
    const b = this.#buckets.get(key);
    const tokens = this.#level(b, t);
    if (tokens < 1) {
      if (b) {
        b.tokens = tokens;
        b.at = t;
      }
      return false;
    }
    this.#buckets.delete(key);
    this.#buckets.set(key, { tokens: tokens - 1, at: t });
    while (this.#buckets.size > this.#o.maxTracked) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest === undefined) break;
      this.#buckets.delete(oldest);
    }
    return true;
  }

  /** Keys remembered now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Forget buckets that have refilled. */
  sweep(): void {
    const t = this.#now();
    for (const [k, b] of this.#buckets) if (this.#level(b, t) >= this.#o.burst) this.#buckets.delete(k);
  }
}
