import { isIP } from 'node:net';
import type { GatewayConfig } from '../config/schema.js';
import { normalizeIp } from '../routing/ip.js';

/**
 * The address a connection is accounted to: an IPv4 address as it is, an IPv6 address by its /64
 * (one subscriber usually holds a whole /64, so counting single v6 addresses would be no limit at all).
 */
export function addressGroup(ip: string | undefined): string {
  const n = normalizeIp(ip);
  if (isIP(n) !== 6) return n;
  const [head = '', tail] = n.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export interface ConnectionBudgetOptions {
  /** Connections one address (IPv6: one /64) may hold open at once, whatever they are doing. */
  perAddress: number;
  /** New connections per second one address may open, on average. */
  ratePerSec: number;
  /** New connections one address may open at once before the rate applies. */
  burst: number;
  /** Addresses whose rate is remembered; the least recently seen are forgotten first. Default 20000. */
  maxTracked?: number;
  now?: () => number;
}

export type Admission = { ok: true; group: string; release(): void } | { ok: false; group: string; reason: 'budget' | 'rate' };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Per-address connection accounting for a gateway: how many connections each address holds (all of
 * them, spliced ones too, until the socket closes) and how fast it opens new ones (a token bucket).
 * Memory is bounded: open counts exist only for addresses with open connections, buckets for at most
 * `maxTracked` addresses. A player that reconnects every few seconds never comes near either limit.
 */
export class ConnectionBudget {
  readonly #o: Required<Omit<ConnectionBudgetOptions, 'now'>>;
  readonly #now: () => number;
  readonly #open = new Map<string, number>();
  readonly #buckets = new Map<string, Bucket>();
  #refused = { budget: 0, rate: 0 };

  constructor(options: ConnectionBudgetOptions) {
    if (!(options.perAddress >= 1) || !(options.ratePerSec > 0) || !(options.burst >= 1)) {
      throw new RangeError('ConnectionBudget: perAddress and burst must be at least 1 and ratePerSec above 0');
    }
    this.#o = { maxTracked: 20_000, ...options };
    this.#now = options.now ?? Date.now;
  }

  /** Account a new connection from `ip`; call `release()` exactly when its socket closes (extra calls are ignored). */
  admit(ip: string | undefined): Admission {
    const group = addressGroup(ip);
    const open = this.#open.get(group) ?? 0;
    if (open >= this.#o.perAddress) {
      this.#refused.budget++;
      return { ok: false, group, reason: 'budget' };
    }
    if (!this.#take(group)) {
      this.#refused.rate++;
      return { ok: false, group, reason: 'rate' };
    }
    this.#open.set(group, open + 1);
    let released = false;
    return {
      ok: true,
      group,
      release: () => {
        if (released) return;
        released = true;
        const n = (this.#open.get(group) ?? 1) - 1;
        if (n <= 0) this.#open.delete(group);
        else this.#open.set(group, n);
      },
    };
  }

  /** Connections `ip`'s group holds now. */
  openFor(ip: string | undefined): number {
    return this.#open.get(addressGroup(ip)) ?? 0;
  }

  stats(): { addresses: number; tracked: number; refusedBudget: number; refusedRate: number } {
    return { addresses: this.#open.size, tracked: this.#buckets.size, refusedBudget: this.#refused.budget, refusedRate: this.#refused.rate };
  }

  /** Forget buckets that have refilled (called on a timer). */
  sweep(): void {
    const t = this.#now();
    for (const [g, b] of this.#buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.#o.ratePerSec >= this.#o.burst) this.#buckets.delete(g);
    }
  }

  #take(group: string): boolean {
    const t = this.#now();
    const b = this.#buckets.get(group);
    const tokens = b ? Math.min(this.#o.burst, b.tokens + (Math.max(0, t - b.at) / 1000) * this.#o.ratePerSec) : this.#o.burst;
    if (tokens < 1) {
      if (b) {
        b.tokens = tokens;
        b.at = t;
      }
      return false;
    }
    this.#buckets.delete(group);
    this.#buckets.set(group, { tokens: tokens - 1, at: t });
    while (this.#buckets.size > this.#o.maxTracked) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest === undefined) break;
      this.#buckets.delete(oldest);
    }
    return true;
  }
}

/** The gateway's per-address budget from its config (defaults as in the config schema). */
export function gatewayBudget(limits: Partial<Pick<GatewayConfig, 'maxConnectionsPerAddress' | 'newConnectionsPerSecond' | 'newConnectionBurst'>>): ConnectionBudget {
  return new ConnectionBudget({
    perAddress: limits.maxConnectionsPerAddress ?? 64,
    ratePerSec: limits.newConnectionsPerSecond ?? 10,
    burst: limits.newConnectionBurst ?? 40,
  });
}
