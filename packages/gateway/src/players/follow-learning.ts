import { ipGroups, normalizeIp, readPrivateFile, writePrivateFile, type PlayerBook, type PlayerView } from '@haven/core';

/**
 * What the gateway learns about players and redirects: per User-Agent, how many 302s it got, how
 * many reached their node (a node reported a new reader from that address), how many asked again on
 * the same connection (androidx/media3), and how many did neither within the deadline. A player is
 * served locally only on evidence a few senders cannot make: enough recent outcomes, a follow-rate
 * under the threshold, and unfollowed redirects from several distinct networks (IPv4 /24, IPv6 /48);
 * evidence older than the window is forgotten, so a verdict decays, and an operator can clear it
 * (`reset`). Config pins override. Bounded (agents, outcomes per agent, pending redirects), persisted
 * 0600 in the state directory.
 */

export type AuthScheme = 'basic' | 'digest';

/** What the book keeps per User-Agent (the file's records): the view's counters, without what is derived from them. */
export type PlayerRecord = Omit<PlayerView, 'evidence' | 'followRate' | 'served' | 'why'>;

/** What a verdict rests on: the outcomes within the window (no viewer address or network is shown). */
export interface PlayerEvidence {
  /** Outcomes (followed or not) within the window. */
  outcomes: number;
  followed: number;
  /** Distinct networks (IPv4 /24, IPv6 /48) whose redirects were not followed. */
  prefixes: number;
  /** Epoch ms of the oldest and newest outcome counted. */
  firstAt: number;
  lastAt: number;
}

export interface FollowLearnerOptions {
  /** JSON file in the state directory; absent: memory only. */
  file?: string;
  deadlineMs: () => number;
  minSamples: () => number;
  minFollowRate: () => number;
  pinLocal: () => readonly string[];
  pinRedirect: () => readonly string[];
  /**
   * Verdicts learned elsewhere (an entry node: the origin's, from the routing state; only the origin
   * sees arrivals at the nodes). When given, this learner's own outcomes never serve a player locally:
   * a player is served locally when this says so.
   */
  learnedElsewhere?: (userAgent: string) => boolean;
  /** Distinct networks whose redirects went unfollowed before a player is served locally. Default 3. */
  minPrefixes?: () => number;
  /** Outcomes older than this are forgotten (what was learned decays), ms. Default 24 h. */
  windowMs?: () => number;
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
  /** Its `ip|node` key in `#pending`. */
  key: string;
  /** Taken, expired or forgotten: no longer pending (the age queue skips it). */
  gone?: boolean;
}

interface Outcome {
  at: number;
  /** The viewer's network (never shown; kept so that one network counts once). */
  prefix: string;
  followed: boolean;
}

const MAX_UA = 200;
/** Outcomes kept per player: the most recent. */
const MAX_OUTCOMES = 64;
const DAY_MS = 24 * 3600_000;
const SWEEP_EVERY_MS = 250;
const uaKey = (ua: string | undefined): string => (ua ?? '').slice(0, MAX_UA).trim() || '(none)';

export class FollowLearner implements PlayerBook {
  readonly #o: FollowLearnerOptions;
  readonly #agents = new Map<string, PlayerRecord>();
  /** Recent outcomes per player key, oldest first. */
  readonly #outcomes = new Map<string, Outcome[]>();
  /** `ip|node` -> pending redirects, oldest first. */
  readonly #pending = new Map<string, Pending[]>();
  #pendingCount = 0;
  /**
   * Every pending redirect in the order it was sent (`#ageHead` is the first not yet passed): the oldest
   * one to drop when `maxPending` is reached, without walking every pending address for it (that walk,
   * once per redirect over 10,000 pending ones, was a fifth of the gateway's time under a redirect load).
   */
  #byAge: Pending[] = [];
  #ageHead = 0;
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
        this.#outcomes.delete(oldest);
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
    if (this.#o.learnedElsewhere) return this.#o.learnedElsewhere(uaKey(ua)) ? { served: 'local', why: 'learned-local' } : { served: 'redirect', why: 'default' };
    const e = this.evidence(ua);
    if (e && e.outcomes >= this.#o.minSamples() && e.followed / e.outcomes < this.#o.minFollowRate() && e.prefixes >= (this.#o.minPrefixes?.() ?? 3)) {
      return { served: 'local', why: 'learned-local' };
    }
    return { served: 'redirect', why: 'default' };
  }

  /** The outcomes within the window for this User-Agent; undefined when there are none. */
  evidence(ua: string | undefined): PlayerEvidence | undefined {
    const key = uaKey(ua);
    const list = this.#outcomes.get(key);
    if (!list) return undefined;
    const cut = this.#now() - (this.#o.windowMs?.() ?? DAY_MS);
    while (list.length > 0 && (list[0] as Outcome).at <= cut) list.shift();
    if (list.length === 0) {
      this.#outcomes.delete(key);
      return undefined;
    }
    const unfollowed = new Set<string>();
    let followed = 0;
    for (const o of list) {
      if (o.followed) followed++;
      else unfollowed.add(o.prefix);
    }
    return { outcomes: list.length, followed, prefixes: unfollowed.size, firstAt: (list[0] as Outcome).at, lastAt: (list.at(-1) as Outcome).at };
  }

  #outcome(p: Pending, followed: boolean): void {
    const r = this.#rec(p.ua);
    if (followed) r.followed++;
    else r.notFollowed++;
    let list = this.#outcomes.get(r.userAgent);
    if (!list) this.#outcomes.set(r.userAgent, (list = []));
    list.push({ at: this.#now(), prefix: ipGroups(p.ip).prefix, followed });
    if (list.length > MAX_OUTCOMES) list.shift();
  }

  /**
   * Forget what was learned about one User-Agent (exactly as shown), or about every player when none
   * is given: its counts, its outcomes and its pending redirects. Returns how many players were cleared.
   */
  reset(ua?: string): number {
    const keys = ua === undefined ? [...this.#agents.keys()] : [uaKey(ua)].filter((k) => this.#agents.has(k) || this.#outcomes.has(k));
    for (const k of keys) {
      this.#agents.delete(k);
      this.#outcomes.delete(k);
    }
    if (ua === undefined) this.#outcomes.clear();
    for (const [key, list] of this.#pending) {
      const kept = list.filter((p) => {
        const forget = ua === undefined || p.ua === uaKey(ua);
        if (forget) p.gone = true;
        return !forget;
      });
      this.#pendingCount -= list.length - kept.length;
      if (kept.length === 0) this.#pending.delete(key);
      else this.#pending.set(key, kept);
    }
    this.#dirty = true;
    return keys.length;
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
    const p: Pending = { ip: normalizeIp(ip), node, ua: r.userAgent, at: this.#now(), key };
    list.push(p);
    this.#byAge.push(p);
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
      this.#outcome(p, true);
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
        p.gone = true;
        this.#pendingCount--;
        this.#outcome(p, false);
        n++;
      }
      if (list.length === 0) this.#pending.delete(key);
    }
    this.#passGone();
    return n;
  }

  get pending(): number {
    return this.#pendingCount;
  }

  #take(key: string): Pending | undefined {
    const list = this.#pending.get(key);
    const p = list?.shift();
    if (!p) return undefined;
    p.gone = true;
    this.#pendingCount--;
    if (list && list.length === 0) this.#pending.delete(key);
    return p;
  }

  /**
   * Forget the oldest pending redirect: the first of the age queue still pending, which is also the
   * first of its address's list (each list is in the order sent, and anything older there was passed).
   */
  #dropOldest(): void {
    this.#passGone();
    const p = this.#byAge[this.#ageHead];
    if (!p) {
      this.#pendingCount = 0;
      return;
    }
    this.#take(p.key);
  }

  /** Move the age queue's head past what is no longer pending, and let go of what it passed. */
  #passGone(): void {
    const q = this.#byAge;
    while (this.#ageHead < q.length && (q[this.#ageHead] as Pending).gone) this.#ageHead++;
    if (this.#ageHead > 1024 && this.#ageHead * 2 > q.length) {
      this.#byAge = q.slice(this.#ageHead);
      this.#ageHead = 0;
    }
  }

  snapshot(): PlayerView[] {
    this.sweep();
    return [...this.#agents.values()]
      .map((r) => {
        const outcomes = r.followed + r.notFollowed;
        const ua = r.userAgent === '(none)' ? undefined : r.userAgent;
        const v: PlayerView = { ...r, ...this.verdict(ua) };
        if (outcomes > 0) v.followRate = Math.round((r.followed / outcomes) * 1000) / 1000;
        const evidence = this.evidence(ua);
        if (evidence) v.evidence = evidence;
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
      const data = JSON.parse(text) as { version?: number; players?: PlayerRecord[]; outcomes?: Record<string, Outcome[]> };
      // Version 1 kept counts only: its verdicts rested on no network evidence and are not carried over.
      if ((data.version !== 1 && data.version !== 2) || !Array.isArray(data.players)) throw new Error(`${file}: unknown format`);
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
      for (const [ua, list] of Object.entries(data.outcomes ?? {})) {
        if (!this.#agents.has(ua) || !Array.isArray(list)) continue;
        const ok = list.filter((o) => typeof o?.at === 'number' && Number.isFinite(o.at) && typeof o.prefix === 'string' && typeof o.followed === 'boolean');
        this.#outcomes.set(ua, ok.slice(-MAX_OUTCOMES).map((o) => ({ at: o.at, prefix: o.prefix.slice(0, 64), followed: o.followed })));
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
    const body = JSON.stringify({ version: 2, players: [...this.#agents.values()], outcomes: Object.fromEntries(this.#outcomes) }, null, 1);
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
