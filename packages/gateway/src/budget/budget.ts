import { type GatewayConfig, ipGroups } from '@haven/core';
import { TokenBuckets } from '@haven/door';

/**
 * The address a connection is accounted to: an IPv4 address as it is, an IPv6 address by its /64
 * (one subscriber usually holds a whole /64, so counting single v6 addresses would be no limit at all).
 */
export function addressGroup(ip: string | undefined): string {
  return ipGroups(ip).address;
}

export interface ConnectionBudgetOptions {
  /** Connections one address (IPv6: one /64) may hold open at once, whatever they are doing. */
  perAddress: number;
  /** Connections one prefix (IPv4 /24, IPv6 /48) may hold open at once. Default `4 * perAddress`. */
  perPrefix?: number;
  /** Undecided connections (not yet served, redirected or spliced) one address may hold. Default `perAddress`. */
  undecidedPerAddress?: number;
  /** Undecided connections one prefix may hold. Default `2 * undecidedPerAddress`. */
  undecidedPerPrefix?: number;
  /** Connections of the whole door. Default unlimited (`Infinity`). */
  maxConnections?: number;
  /**
   * How long a connection may stay undecided in total, ms; requests do not extend it. At the
   * deadline the door is told to close it (`onShed('deadline')`). Default 10000.
   */
  undecidedDeadlineMs?: number;
  /** New connections per second one address may open, on average. */
  ratePerSec: number;
  /** New connections one address may open at once before the rate applies. */
  burst: number;
  /** The same for a whole prefix. Default 4 times the address's. */
  prefixRatePerSec?: number;
  prefixBurst?: number;
  /** Groups whose rate is remembered; the least recently seen are forgotten first. Default 20000. */
  maxTracked?: number;
  now?: () => number;
}

/** Why a connection was refused: over its address's or prefix's open or undecided budget, its rate, or the fair share of a full door. */
export type RefusalReason = 'address' | 'prefix' | 'undecided' | 'rate' | 'cap';
/** Why an admitted connection is to be closed now: its undecided deadline passed, or a newcomer from a smaller prefix needs its slot. */
export type ShedReason = 'deadline' | 'fair';

export type Admission =
  | {
      ok: true;
      group: string;
      prefix: string;
      /** The connection left the undecided phase (served, redirected, spliced): its deadline stops. */
      decided(): void;
      /** Its socket closed; call once (extra calls are ignored). */
      release(): void;
    }
  | { ok: false; group: string; prefix: string; reason: RefusalReason };

interface Entry {
  address: string;
  prefix: string;
  undecided: boolean;
  dropped: boolean;
  onShed: ((why: ShedReason) => void) | undefined;
  timer: NodeJS.Timeout | undefined;
}

interface Waiter {
  ip: string | undefined;
  address: string;
  prefix: string;
  onShed: ((why: ShedReason) => void) | undefined;
  done: (a: Admission) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface ConnectionBudgetStats {
  open: number;
  undecided: number;
  /** Addresses and prefixes holding connections now. */
  addresses: number;
  prefixes: number;
  /** Addresses whose connection rate is remembered. */
  tracked: number;
  refused: Record<RefusalReason, number>;
  shed: Record<ShedReason, number>;
  /** Kept for the older stats shape: refusals by an address's or prefix's budget, and by rate. */
  refusedBudget: number;
  refusedRate: number;
  /** Connections waiting now for an undecided slot of their network (`admitOrWait`), and admitted after such a wait. */
  waiting: number;
  waited: number;
}

const inc = (m: Map<string, number>, k: string, by: number): void => {
  const n = (m.get(k) ?? 0) + by;
  if (n <= 0) m.delete(k);
  else m.set(k, n);
};

/**
 * One connection budget for a public door (RTSP, HLS, HTTPS entry, ACME responder): how many
 * connections each address and each prefix holds (all of them, spliced ones too, until the socket
 * closes), how many of those are still undecided, how fast each opens new ones, and a global cap.
 * An undecided connection has a total deadline that no request extends. Near the global cap the
 * door stays fair: a connection from a prefix that holds the most slots is refused, and at the cap a
 * newcomer from a smaller prefix takes the slot of the oldest undecided connection of the prefix
 * holding the most undecided ones; so a viewer from a new network still gets in while many
 * networks hold their budgets. Memory is bounded: counts exist only for groups with open
 * connections, rate buckets for at most `maxTracked` groups.
 */
export class ConnectionBudget {
  readonly #o: Required<Omit<ConnectionBudgetOptions, 'now'>>;
  readonly #open = { address: new Map<string, number>(), prefix: new Map<string, number>() };
  readonly #undecided = { address: new Map<string, number>(), prefix: new Map<string, number>() };
  /** Undecided connections per prefix, oldest first (the ones shed first). */
  readonly #queue = new Map<string, Set<Entry>>();
  readonly #rate: TokenBuckets;
  readonly #prefixRate: TokenBuckets;
  #total = 0;
  #undecidedTotal = 0;
  readonly #refused: Record<RefusalReason, number> = { address: 0, prefix: 0, undecided: 0, rate: 0, cap: 0 };
  readonly #shed: Record<ShedReason, number> = { deadline: 0, fair: 0 };
  /** Connections over only their undecided budget, waiting for a slot of their network, oldest first. */
  readonly #waiting = new Map<string, Set<Waiter>>();
  #waitingTotal = 0;
  #waited = 0;

  constructor(options: ConnectionBudgetOptions) {
    if (!(options.perAddress >= 1) || !(options.ratePerSec > 0) || !(options.burst >= 1)) {
      throw new RangeError('ConnectionBudget: perAddress and burst must be at least 1 and ratePerSec above 0');
    }
    const undecidedPerAddress = options.undecidedPerAddress ?? options.perAddress;
    this.#o = {
      perPrefix: 4 * options.perAddress,
      undecidedPerAddress,
      undecidedPerPrefix: 2 * undecidedPerAddress,
      maxConnections: Infinity,
      undecidedDeadlineMs: 10_000,
      prefixRatePerSec: 4 * options.ratePerSec,
      prefixBurst: 4 * options.burst,
      maxTracked: 20_000,
      ...options,
    };
    const now = options.now ?? Date.now;
    this.#rate = new TokenBuckets({ ratePerSec: this.#o.ratePerSec, burst: this.#o.burst, maxTracked: this.#o.maxTracked, now });
    this.#prefixRate = new TokenBuckets({ ratePerSec: this.#o.prefixRatePerSec, burst: this.#o.prefixBurst, maxTracked: this.#o.maxTracked, now });
  }

  /**
   * Account a new connection from `ip`. `onShed` is how the budget closes it while it is undecided
   * (deadline, or its slot given to a newcomer); without it, the connection is never shed. Call
   * `decided()` when it is served and `release()` when its socket closes.
   */
  admit(ip: string | undefined, onShed?: (why: ShedReason) => void): Admission {
    const { address, prefix } = ipGroups(ip);
    const o = this.#o;
    const refuse = (reason: RefusalReason): Admission => {
      this.#refused[reason]++;
      return { ok: false, group: address, prefix, reason };
    };
    if ((this.#open.address.get(address) ?? 0) >= o.perAddress) return refuse('address');
    const prefixOpen = this.#open.prefix.get(prefix) ?? 0;
    if (prefixOpen >= o.perPrefix) return refuse('prefix');
    if ((this.#undecided.address.get(address) ?? 0) >= o.undecidedPerAddress || (this.#undecided.prefix.get(prefix) ?? 0) >= o.undecidedPerPrefix) {
      return refuse('undecided');
    }
    if (!this.#rate.take(address) || !this.#prefixRate.take(prefix)) return refuse('rate');
    if (this.#total >= o.maxConnections - Math.max(1, Math.floor(o.maxConnections / 10))) {
      // Near the cap: the prefix holding the most slots waits; a smaller one gets in.
      if (prefixOpen > 0 && prefixOpen >= this.#largestPrefix()) return refuse('cap');
      if (this.#total >= o.maxConnections && !this.#shedOne(prefix)) return refuse('cap');
    }
    return this.#add(address, prefix, onShed);
  }

  /**
   * Like `admit`, but a connection refused only because its address or network holds its undecided
   * budget waits, in arrival order, at most `waitMs` for one of them to be decided (a viewer's
   * decision takes milliseconds; a burst of viewers retrying together after a node died, from one
   * network, would otherwise be refused and retry only seconds later). At most as many wait per
   * network as its undecided budget, and `maxWaiting` in all; a trickler's slots are never decided,
   * so its waiters are refused at the end of the wait as before. `done` is called once, with the
   * admission or the refusal; the function returned cancels the wait (the socket closed meanwhile).
   */
  admitOrWait(ip: string | undefined, onShed: ((why: ShedReason) => void) | undefined, waitMs: number, done: (a: Admission) => void, maxWaiting = 512): () => void {
    const first = this.admit(ip, onShed);
    const full = (this.#waiting.get(first.prefix)?.size ?? 0) >= this.#o.undecidedPerPrefix || this.#waitingTotal >= maxWaiting;
    if (first.ok || first.reason !== 'undecided' || waitMs <= 0 || full) {
      done(first);
      return () => {};
    }
    this.#refused.undecided--; // counted when the wait ends without a slot
    const w: Waiter = { ip, address: first.group, prefix: first.prefix, onShed, done, timer: undefined };
    let q = this.#waiting.get(w.prefix);
    if (!q) this.#waiting.set(w.prefix, (q = new Set()));
    q.add(w);
    this.#waitingTotal++;
    w.timer = setTimeout(() => {
      if (!this.#unwait(w)) return;
      this.#refused.undecided++;
      w.done({ ok: false, group: w.address, prefix: w.prefix, reason: 'undecided' });
    }, waitMs);
    w.timer.unref();
    return () => {
      this.#unwait(w);
    };
  }

  #unwait(w: Waiter): boolean {
    const q = this.#waiting.get(w.prefix);
    if (!q?.delete(w)) return false;
    if (q.size === 0) this.#waiting.delete(w.prefix);
    this.#waitingTotal--;
    if (w.timer) clearTimeout(w.timer);
    return true;
  }

  /** A slot of `prefix` was decided or released: the oldest waiter that now fits is admitted. */
  #wake(prefix: string): void {
    const q = this.#waiting.get(prefix);
    if (!q) return;
    if ((this.#undecided.prefix.get(prefix) ?? 0) >= this.#o.undecidedPerPrefix) return;
    for (const w of q) {
      if ((this.#undecided.address.get(w.address) ?? 0) >= this.#o.undecidedPerAddress) continue;
      this.#unwait(w);
      this.#waited++;
      w.done(this.admit(w.ip, w.onShed));
      return;
    }
  }

  #add(address: string, prefix: string, onShed: ((why: ShedReason) => void) | undefined): Admission {
    const e: Entry = { address, prefix, undecided: true, dropped: false, onShed, timer: undefined };
    this.#total++;
    this.#undecidedTotal++;
    inc(this.#open.address, address, 1);
    inc(this.#open.prefix, prefix, 1);
    inc(this.#undecided.address, address, 1);
    inc(this.#undecided.prefix, prefix, 1);
    if (onShed) {
      let q = this.#queue.get(prefix);
      if (!q) this.#queue.set(prefix, (q = new Set()));
      q.add(e);
      e.timer = setTimeout(() => this.#shedEntry(e, 'deadline'), this.#o.undecidedDeadlineMs);
      e.timer.unref();
    }
    return {
      ok: true,
      group: address,
      prefix,
      decided: () => {
        if (!e.dropped) this.#decide(e);
      },
      release: () => this.#drop(e),
    };
  }

  #decide(e: Entry): void {
    if (!e.undecided) return;
    e.undecided = false;
    this.#undecidedTotal--;
    inc(this.#undecided.address, e.address, -1);
    inc(this.#undecided.prefix, e.prefix, -1);
    if (e.timer) clearTimeout(e.timer);
    const q = this.#queue.get(e.prefix);
    if (q?.delete(e) && q.size === 0) this.#queue.delete(e.prefix);
    if (this.#waiting.size > 0) queueMicrotask(() => this.#wake(e.prefix));
  }

  /** Remove every count of `e`, once. */
  #drop(e: Entry): void {
    if (e.dropped) return;
    e.dropped = true;
    this.#decide(e);
    this.#total--;
    inc(this.#open.address, e.address, -1);
    inc(this.#open.prefix, e.prefix, -1);
  }

  #shedEntry(e: Entry, why: ShedReason): void {
    if (!e.undecided || e.dropped) return;
    this.#shed[why]++;
    const cb = e.onShed;
    this.#drop(e);
    try {
      cb?.(why);
    } catch {
      // The door's close failed: the slot is free anyway.
    }
  }

  /** Free one slot for a newcomer from `forPrefix`: the oldest undecided connection of the prefix holding the most undecided ones. */
  #shedOne(forPrefix: string): boolean {
    let victim: Set<Entry> | undefined;
    let most = 0;
    for (const [prefix, q] of this.#queue) {
      if (prefix === forPrefix || q.size <= most) continue;
      most = q.size;
      victim = q;
    }
    const e = victim?.values().next().value;
    if (!e) return false;
    this.#shedEntry(e, 'fair');
    return true;
  }

  #largestPrefix(): number {
    let max = 0;
    for (const n of this.#open.prefix.values()) if (n > max) max = n;
    return max;
  }

  /** Connections `ip`'s address group holds now. */
  openFor(ip: string | undefined): number {
    return this.#open.address.get(addressGroup(ip)) ?? 0;
  }

  /** Connections `ip`'s prefix holds now. */
  openForPrefix(ip: string | undefined): number {
    return this.#open.prefix.get(ipGroups(ip).prefix) ?? 0;
  }

  stats(): ConnectionBudgetStats {
    const r = this.#refused;
    return {
      open: this.#total,
      undecided: this.#undecidedTotal,
      addresses: this.#open.address.size,
      prefixes: this.#open.prefix.size,
      tracked: this.#rate.size,
      refused: { ...r },
      shed: { ...this.#shed },
      refusedBudget: r.address + r.prefix + r.undecided + r.cap,
      refusedRate: r.rate,
      waiting: this.#waitingTotal,
      waited: this.#waited,
    };
  }

  /** Forget rate buckets that have refilled (called on a timer). */
  sweep(): void {
    this.#rate.sweep();
    this.#prefixRate.sweep();
  }
}

export type GatewayBudgetLimits = Partial<
  Pick<
    GatewayConfig,
    | 'maxConnections'
    | 'maxConnectionsPerAddress'
    | 'maxConnectionsPerPrefix'
    | 'maxUndecidedPerAddress'
    | 'maxUndecidedPerPrefix'
    | 'undecidedDeadlineMs'
    | 'newConnectionsPerSecond'
    | 'newConnectionBurst'
  >
>;

/** A door's budget from the gateway config (defaults as in the config schema); every public door builds its own with this. */
export function gatewayBudget(limits: GatewayBudgetLimits): ConnectionBudget {
  return new ConnectionBudget({
    maxConnections: limits.maxConnections ?? 2000,
    perAddress: limits.maxConnectionsPerAddress ?? 64,
    perPrefix: limits.maxConnectionsPerPrefix ?? 256,
    undecidedPerAddress: limits.maxUndecidedPerAddress ?? 16,
    undecidedPerPrefix: limits.maxUndecidedPerPrefix ?? 32,
    undecidedDeadlineMs: limits.undecidedDeadlineMs ?? 10_000,
    ratePerSec: limits.newConnectionsPerSecond ?? 10,
    burst: limits.newConnectionBurst ?? 40,
  });
}
