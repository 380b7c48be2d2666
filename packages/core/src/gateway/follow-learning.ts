import { normalizeIp } from '../routing/ip.js';
import { readPrivateFile, writePrivateFile } from '../state.js';

/**
 * What the gateway learns about players and redirects: per User-Agent, how many 302s it got, how
 * many reached their node (a node reported a new reader from that address), how many asked again on
 * the same connection (androidx/media3), and how many did neither within the deadline. A player whose
 * follow-rate falls under the threshold is served locally from then on; config pins override.
 * Bounded (agents and pending redirects), persisted 0600 in the state directory.
 */

export type AuthScheme = 'basic' | 'digest';

export interface PlayerRecord {
  userAgent: string;
  redirects: number;
  /** Reached the node (reported by the node). */
  followed: number;
  /** Asked again on the same connection and was served there. */
  sameConnection: number;
  /** Neither came back nor reached the node in time. */
  notFollowed: number;
  basic: number;
  digest: number;
  lastAt: number;
}

export interface PlayerView extends PlayerRecord {
  /** followed / (followed + notFollowed); undefined before any outcome. */
  followRate?: number;
  /** What the next viewer with this User-Agent gets. */
  served: 'redirect' | 'local';
  why: 'pinned-local' | 'pinned-redirect' | 'learned-local' | 'default';
}

export interface FollowLearnerOptions {
  /** JSON file in the state directory; absent: memory only. */
  file?: string;
  deadlineMs: () => number;
  minSamples: () => number;
  minFollowRate: () => number;
  pinLocal: () => readonly string[];
  pinRedirect: () => readonly string[];
  maxAgents?: number;
  maxPending?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

interface Pending {
  ip: string;
  node: string;
  ua: string;
  at: number;
}

const MAX_UA = 200;
const SWEEP_EVERY_MS = 250;
const uaKey = (ua: string | undefined): string => (ua ?? '').slice(0, MAX_UA).trim() || '(none)';

export class FollowLearner {
  readonly #o: FollowLearnerOptions;
  readonly #agents = new Map<string, PlayerRecord>();
  /** `ip|node` -> pending redirects, oldest first. */
  readonly #pending = new Map<string, Pending[]>();
  #pendingCount = 0;
  #sweptAt = Number.NEGATIVE_INFINITY;
  #dirty = false;
  #saving: Promise<void> | undefined;

  constructor(options: FollowLearnerOptions) {
    this.#o = options;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  #rec(ua: string | undefined): PlayerRecord {
    const key = uaKey(ua);
    let r = this.#agents.get(key);
    if (r) {
      this.#agents.delete(key);
    } else {
      r = { userAgent: key, redirects: 0, followed: 0, sameConnection: 0, notFollowed: 0, basic: 0, digest: 0, lastAt: 0 };
      const max = this.#o.maxAgents ?? 500;
      while (this.#agents.size >= max) {
        const oldest = this.#agents.keys().next().value;
        if (oldest === undefined) break;
        this.#agents.delete(oldest);
      }
    }
    r.lastAt = this.#now();
    this.#agents.set(key, r);
    this.#dirty = true;
    return r;
  }

  /** Where the next viewer with this User-Agent goes, and why. */
  verdict(ua: string | undefined): Pick<PlayerView, 'served' | 'why'> {
    const low = (ua ?? '').toLowerCase();
    if (this.#o.pinLocal().some((p) => low.includes(p.toLowerCase()))) return { served: 'local', why: 'pinned-local' };
    if (this.#o.pinRedirect().some((p) => low.includes(p.toLowerCase()))) return { served: 'redirect', why: 'pinned-redirect' };
    const r = this.#agents.get(uaKey(ua));
    if (r) {
      const outcomes = r.followed + r.notFollowed;
      if (outcomes >= this.#o.minSamples() && r.followed / outcomes < this.#o.minFollowRate()) return { served: 'local', why: 'learned-local' };
    }
    return { served: 'redirect', why: 'default' };
  }

  authScheme(ua: string | undefined, scheme: AuthScheme): void {
    this.#rec(ua)[scheme]++;
  }

  /** A 302 was sent: wait for the node to report this address, or the same connection to ask again. */
  redirected(ip: string, ua: string | undefined, node: string): void {
    // A sweep walks every pending address: at most a few per second, not one per redirect (it was a
    // walk of all pending viewers for each 302 under load). Expired entries are at most that late.
    if (this.#now() - this.#sweptAt >= SWEEP_EVERY_MS) this.sweep();
    const r = this.#rec(ua);
    r.redirects++;
    const key = `${normalizeIp(ip)}|${node}`;
    const list = this.#pending.get(key) ?? [];
    list.push({ ip: normalizeIp(ip), node, ua: r.userAgent, at: this.#now() });
    this.#pending.set(key, list);
    this.#pendingCount++;
    const max = this.#o.maxPending ?? 10_000;
    while (this.#pendingCount > max) this.#dropOldest();
  }

  /** The redirected viewer asked for the `Location` on the same connection: served there (not an outcome of following). */
  sameConnection(ip: string, ua: string | undefined, node: string): void {
    const p = this.#take(`${normalizeIp(ip)}|${node}`);
    const r = this.#rec(p?.ua ?? ua);
    r.sameConnection++;
  }

  /** A node reported new readers: each address matched to a pending redirect counts as followed. */
  arrived(node: string, ips: readonly string[]): number {
    let n = 0;
    for (const ip of ips) {
      const p = this.#take(`${normalizeIp(ip)}|${node}`);
      if (!p) continue;
      this.#rec(p.ua).followed++;
      n++;
    }
    return n;
  }

  /** Redirects past the deadline count as not followed. Returns how many expired. */
  sweep(): number {
    this.#sweptAt = this.#now();
    const cut = this.#sweptAt - this.#o.deadlineMs();
    let n = 0;
    for (const [key, list] of this.#pending) {
      while (list.length > 0 && (list[0] as Pending).at <= cut) {
        const p = list.shift() as Pending;
        this.#pendingCount--;
        this.#rec(p.ua).notFollowed++;
        n++;
      }
      if (list.length === 0) this.#pending.delete(key);
    }
    return n;
  }

  get pending(): number {
    return this.#pendingCount;
  }

  #take(key: string): Pending | undefined {
    const list = this.#pending.get(key);
    const p = list?.shift();
    if (!p) return undefined;
    this.#pendingCount--;
    if (list && list.length === 0) this.#pending.delete(key);
    return p;
  }

  #dropOldest(): void {
    let oldestKey: string | undefined;
    let oldestAt = Infinity;
    for (const [k, list] of this.#pending) {
      const at = list[0]?.at ?? Infinity;
      if (at < oldestAt) {
        oldestAt = at;
        oldestKey = k;
      }
    }
    if (oldestKey === undefined) {
      this.#pendingCount = 0;
      return;
    }
    this.#take(oldestKey);
  }

  snapshot(): PlayerView[] {
    this.sweep();
    return [...this.#agents.values()]
      .map((r) => {
        const outcomes = r.followed + r.notFollowed;
        const v: PlayerView = { ...r, ...this.verdict(r.userAgent === '(none)' ? undefined : r.userAgent) };
        if (outcomes > 0) v.followRate = Math.round((r.followed / outcomes) * 1000) / 1000;
        return v;
      })
      .sort((a, b) => b.lastAt - a.lastAt);
  }

  /** Load what was learned (a missing file is an empty store; a broken one is reported and ignored, never overwritten until the next change). */
  async load(): Promise<void> {
    const file = this.#o.file;
    if (!file) return;
    try {
      const text = await readPrivateFile(file);
      if (text === undefined) return;
      const data = JSON.parse(text) as { version?: number; players?: PlayerRecord[] };
      if (data.version !== 1 || !Array.isArray(data.players)) throw new Error(`${file}: unknown format`);
      for (const p of data.players.slice(0, this.#o.maxAgents ?? 500)) {
        if (typeof p?.userAgent !== 'string') continue;
        const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? Math.floor(x) : 0);
        this.#agents.set(uaKey(p.userAgent), {
          userAgent: uaKey(p.userAgent),
          redirects: num(p.redirects),
          followed: num(p.followed),
          sameConnection: num(p.sameConnection),
          notFollowed: num(p.notFollowed),
          basic: num(p.basic),
          digest: num(p.digest),
          lastAt: num(p.lastAt),
        });
      }
    } catch (err) {
      this.#o.onError?.(err);
    }
  }

  /** Write if anything changed (0600, atomic). */
  async save(): Promise<void> {
    const file = this.#o.file;
    if (!file || !this.#dirty) return;
    if (this.#saving) return this.#saving;
    this.#dirty = false;
    const body = JSON.stringify({ version: 1, players: [...this.#agents.values()] }, null, 1);
    this.#saving = writePrivateFile(file, body)
      .catch((err: unknown) => {
        this.#dirty = true;
        this.#o.onError?.(err);
      })
      .finally(() => {
        this.#saving = undefined;
      });
    return this.#saving;
  }
}
