import path from 'node:path';
import type { HavenError, Locator, LocatorCapabilities, ViewerLocation } from '@haven/core';
import { attributionFor, sourceLabel } from './attribution.js';
import type { GeoDatabase } from './database.js';
import { geoError } from './errors.js';
import { ipKind, parseIp, type IpKind } from './ip.js';
import { LruCache } from './lru.js';
import { compileOverrides, type OverrideEntry, type OverrideTable } from './overrides.js';
import { lookupProblem } from './problems.js';
import { recordToLocation } from './record.js';

export interface GeoLocatorOptions {
  /** Databases to start with; `setDatabases` replaces them later. Default none (overrides only). */
  databases?: readonly GeoDatabase[];
  /** CIDR overrides, checked before any database. */
  overrides?: readonly OverrideEntry[] | OverrideTable;
  /** Entries in the per-address result cache; 0 disables it. Default 10000. */
  cacheSize?: number;
  /** Called with a GEO_LOOKUP_FAILED error when a damaged database fails a lookup (rate-limited). */
  onError?: (error: HavenError) => void;
  /** Whether the databases behind it can be swapped while running. Default false. */
  updates?: boolean;
  /** Errors passed to `onError` per minute; the rest are only counted. Default 10. */
  maxErrorsPerMinute?: number;
}

export interface GeoLocatorStats {
  lookups: number;
  cacheHits: number;
  overrideHits: number;
  /** Addresses in private, loopback, link-local... ranges with no override. */
  special: number;
  /** Public addresses no database knows. */
  unknown: number;
  /** Lookups that hit a damaged record (answered undefined). */
  errors: number;
  swaps: number;
}

const MISS = null;

interface DbState {
  readonly v4: readonly GeoDatabase[];
  readonly v6: readonly GeoDatabase[];
  readonly all: readonly GeoDatabase[];
  readonly cache: LruCache<string, ViewerLocation | typeof MISS>;
  readonly memo: WeakMap<object, ViewerLocation | typeof MISS>;
  /** Per database of `v4`: location by data pointer (records are shared by many networks). */
  readonly v4memo: ReadonlyArray<LruCache<number, ViewerLocation | typeof MISS>>;
}

/**
 * The `Locator` over one or more `.mmdb` databases plus overrides. Lookups are synchronous, so a
 * swap (hot reload) replaces the whole state in one assignment: a lookup in progress finishes on the
 * database it started with, the next one sees the new database and an empty cache.
 */
export class GeoLocator implements Locator {
  readonly name = 'geoip';
  readonly capabilities: LocatorCapabilities;
  readonly #overrides: OverrideTable;
  readonly #cacheSize: number;
  readonly #onError: ((error: HavenError) => void) | undefined;
  readonly #maxErrors: number;
  #state: DbState;
  #errorWindow = { start: 0, count: 0 };
  readonly #stats: GeoLocatorStats = { lookups: 0, cacheHits: 0, overrideHits: 0, special: 0, unknown: 0, errors: 0, swaps: 0 };

  constructor(options: GeoLocatorOptions = {}) {
    this.capabilities = { ipv6: true, updates: options.updates ?? false };
    const o = options.overrides;
    this.#overrides = o && 'match' in o ? o : compileOverrides((o as readonly OverrideEntry[] | undefined) ?? []);
    this.#cacheSize = options.cacheSize ?? 10_000;
    this.#onError = options.onError;
    this.#maxErrors = options.maxErrorsPerMinute ?? 10;
    this.#state = this.#makeState(options.databases ?? []);
  }

  #makeState(dbs: readonly GeoDatabase[]): DbState {
    const v4 = dbs.filter((d) => d.ipVersion === 4);
    const v6 = dbs.filter((d) => d.ipVersion === 6);
    // IPv4 asks the IPv4 databases first; an IPv6 database answers IPv4 through its ::/96 subtree.
    // IPv6 never goes to an IPv4-only database: its reader would walk the IPv4 tree with IPv6 bits.
    const v4all = [...v4, ...v6];
    return {
      v4: v4all,
      v6,
      all: [...dbs],
      cache: new LruCache(this.#cacheSize),
      memo: new WeakMap(),
      v4memo: v4all.map(() => new LruCache<number, ViewerLocation | typeof MISS>(this.#cacheSize)),
    };
  }

  /** Replace the databases (hot reload). The result cache starts empty. */
  setDatabases(dbs: readonly GeoDatabase[]): void {
    this.#state = this.#makeState(dbs);
    this.#stats.swaps++;
  }

  get databases(): readonly GeoDatabase[] {
    return this.#state.all;
  }

  locate(ip: string): ViewerLocation | undefined {
    const state = this.#state;
    this.#stats.lookups++;
    try {
      const hit = state.cache.get(ip);
      if (hit !== undefined) {
        this.#stats.cacheHits++;
        return hit ?? undefined;
      }
      const result = this.#resolve(ip, state);
      if (typeof ip === 'string' && ip.length <= 64) state.cache.set(ip, result ?? MISS);
      return result;
    } catch (err) {
      // Last resort: nothing about an address may break the caller.
      this.#report(err, ip, undefined);
      return undefined;
    }
  }

  #resolve(input: string, state: DbState): ViewerLocation | undefined {
    const ip = parseIp(input);
    if (!ip) return undefined;
    if (this.#overrides.size > 0) {
      const o = this.#overrides.match(ip);
      if (o) {
        this.#stats.overrideHits++;
        return o;
      }
    }
    if (ipKind(ip) !== 'public') {
      this.#stats.special++;
      return undefined;
    }
    if (ip.version === 4) return this.#resolveV4(ip.v4, input, state);
    for (const db of state.v6) {
      let record: unknown;
      try {
        record = db.get(ip.text);
      } catch (err) {
        this.#report(err, input, db);
        continue;
      }
      if (record === null || record === undefined) continue;
      let loc = typeof record === 'object' ? state.memo.get(record) : undefined;
      if (loc === undefined) {
        loc = recordToLocation(record, db.source, db.languages) ?? MISS;
        if (typeof record === 'object') state.memo.set(record, loc);
      }
      if (loc) return loc;
    }
    this.#stats.unknown++;
    return undefined;
  }

  /**
   * IPv4: our own walk of the search tree with the address already parsed, then the location by
   * data pointer (the reader would parse the text again and decode the record before any memo).
   */
  #resolveV4(v4: number, input: string, state: DbState): ViewerLocation | undefined {
    const dbs = state.v4;
    for (let i = 0; i < dbs.length; i++) {
      const db = dbs[i]!;
      let loc: ViewerLocation | typeof MISS | undefined;
      try {
        const pointer = db.pointerV4(v4);
        if (pointer === 0) continue;
        const memo = state.v4memo[i]!;
        loc = memo.get(pointer);
        if (loc === undefined) {
          const record = db.recordAt(pointer, v4);
          if (record === null || record === undefined) continue;
          loc = recordToLocation(record, db.source, db.languages) ?? MISS;
          memo.set(pointer, loc);
        }
      } catch (err) {
        this.#report(err, input, db);
        continue;
      }
      if (loc) return loc;
    }
    this.#stats.unknown++;
    return undefined;
  }

  #report(err: unknown, ip: unknown, db: GeoDatabase | undefined): void {
    this.#stats.errors++;
    if (!this.#onError) return;
    const now = Date.now();
    if (now - this.#errorWindow.start > 60_000) this.#errorWindow = { start: now, count: 0 };
    if (++this.#errorWindow.count > this.#maxErrors) return;
    const where = db ? `in ${path.basename(db.path)} (${db.type})` : '';
    const error = geoError('GEO_LOOKUP_FAILED', `lookup failed ${where}: ${lookupProblem(err)}. The database is damaged: replace it; addresses in the damaged part answer "unknown"`, {
      cause: err,
      details: { ip: typeof ip === 'string' ? ip.slice(0, 64) : typeof ip, database: db?.path },
    });
    try {
      this.#onError(error);
    } catch {
      /* a listener's failure is not ours to surface here */
    }
  }

  /** Kind of address (`public`, `private`, `loopback`...), or undefined when it is not an address. */
  classify(ip: string): IpKind | undefined {
    const p = parseIp(ip);
    return p ? ipKind(p) : undefined;
  }

  stats(): GeoLocatorStats {
    return { ...this.#stats };
  }

  describe(): { source: string; attribution?: string; buildDate?: string } {
    const dbs = this.#state.all;
    if (dbs.length === 0) return { source: this.#overrides.size > 0 ? `overrides only (${this.#overrides.size})` : 'none' };
    const attribution = [...new Set(dbs.map(attributionFor).filter((a): a is string => !!a))].join('; ');
    const out: { source: string; attribution?: string; buildDate?: string } = {
      source: sourceLabel(dbs),
      buildDate: dbs.map((d) => d.buildDate).sort()[0]!,
    };
    if (attribution) out.attribution = attribution;
    return out;
  }

  async close(): Promise<void> {
    this.#state = this.#makeState([]);
  }
}
