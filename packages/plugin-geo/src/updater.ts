import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, type HavenError } from '@haven/core';
import { databaseFromBuffer, openDatabase, type GeoDatabase } from './database.js';
import { download, extractMmdb, makeRedactor, safeCause, type Redact } from './download.js';
import { geoError, reasonOf } from './errors.js';
import type { MaxmindOptions } from './options.js';
import { recordToLocation } from './record.js';
import { walkNetworks } from './walk.js';

const LEGACY_URL = 'https://download.maxmind.com/app/geoip_download?edition_id={edition}&license_key={licenseKey}&suffix=tar.gz';
const ACCOUNT_URL = 'https://download.maxmind.com/geoip/databases/{edition}/download?suffix=tar.gz';
/** setTimeout's ceiling (about 24.8 days); longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface UpdaterOptions extends MaxmindOptions {
  /** Folder for the database and its bookkeeping (`<stateDir>/geo`). */
  dir: string;
  recordCacheSize?: number;
  /** A verified new database is ready: swap it in. */
  onDatabase: (db: GeoDatabase) => void;
  /** An update failed; the old database stays. */
  onError: (error: HavenError) => void;
  /** Structured, secret-free progress lines. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export type UpdateResult = { status: 'updated'; db: GeoDatabase } | { status: 'not-modified' } | { status: 'failed'; error: HavenError };

interface Meta {
  lastCheck?: string;
  lastModified?: string;
  lastUpdate?: string;
  buildDate?: string;
}

/**
 * Keeps a MaxMind database fresh: download (tar.gz), verify (archive integrity, metadata readable,
 * a City database, sample records decode), move into place atomically, hand it over for a hot swap.
 * A failure keeps what is there and is reported through `onError`.
 */
export class MaxmindUpdater {
  readonly file: string;
  readonly #metaFile: string;
  readonly #o: UpdaterOptions;
  readonly #redact: Redact;
  #meta: Meta = {};
  #timer: NodeJS.Timeout | undefined;
  #nextCheck: number | undefined;
  #running: Promise<UpdateResult> | undefined;
  #abort = new AbortController();
  #stopped = false;
  #lastError: string | undefined;
  /** A readable copy is on disk: only then may the server answer "not modified". */
  #localValid = false;

  constructor(options: UpdaterOptions) {
    this.#o = options;
    this.file = path.join(options.dir, `${options.edition}.mmdb`);
    this.#metaFile = path.join(options.dir, `${options.edition}.json`);
    this.#redact = makeRedactor([options.licenseKey]);
  }

  /** The download URL with the key masked, for messages and status. */
  get shownUrl(): string {
    return this.#redact(this.#url());
  }

  #url(): string {
    const template = this.#o.url ?? (this.#o.accountId !== undefined ? ACCOUNT_URL : LEGACY_URL);
    return template.replaceAll('{edition}', encodeURIComponent(this.#o.edition)).replaceAll('{licenseKey}', encodeURIComponent(this.#o.licenseKey ?? ''));
  }

  /** The copy kept from an earlier run, if any and readable. A damaged copy is reported and ignored. */
  async loadLocal(): Promise<GeoDatabase | undefined> {
    try {
      this.#meta = JSON.parse(await fs.readFile(this.#metaFile, 'utf8')) as Meta;
    } catch {
      this.#meta = {};
    }
    if (!existsSync(this.file)) return undefined;
    try {
      const db = await openDatabase(this.file, { source: 'geoip2', recordCacheSize: this.#o.recordCacheSize });
      this.#localValid = true;
      return db;
    } catch (err) {
      this.#o.onError(err as HavenError);
      return undefined;
    }
  }

  /** Check for a new database now. One check at a time: a second call joins the running one. */
  update(): Promise<UpdateResult> {
    if (this.#stopped) return Promise.resolve({ status: 'failed', error: geoError('GEO_UPDATE_DOWNLOAD', 'the updater is stopped') });
    this.#running ??= this.#update().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #update(): Promise<UpdateResult> {
    const o = this.#o;
    let work: string | undefined;
    try {
      work = await fs.mkdtemp(path.join(o.dir, '.update-')).catch((err: unknown) => {
        throw geoError('GEO_UPDATE_SWAP', `cannot create a work folder in ${o.dir} (${reasonOf(err)}): check the state directory`, { cause: err });
      });
      const archive = path.join(work, 'download.tar.gz');
      const headers: Record<string, string> = {};
      if (o.accountId !== undefined && o.licenseKey) {
        headers.authorization = `Basic ${Buffer.from(`${o.accountId}:${o.licenseKey}`).toString('base64')}`;
      }
      const got = await download({
        url: this.#url(),
        headers,
        file: archive,
        timeoutMs: o.timeoutMs,
        maxBytes: o.maxBytes,
        ifModifiedSince: this.#localValid ? this.#meta.lastModified : undefined,
        signal: this.#abort.signal,
        redact: this.#redact,
      });
      const now = new Date().toISOString();
      if (got.status === 'not-modified') {
        await this.#saveMeta({ ...this.#meta, lastCheck: now });
        this.#lastError = undefined;
        o.log?.('geo database is current', { edition: o.edition });
        return { status: 'not-modified' };
      }
      const extracted = await extractMmdb(archive, path.join(work, 'x'), o.edition);
      const db = this.#verify(await fs.readFile(extracted));
      try {
        await fs.chmod(extracted, 0o644);
        await fs.rename(extracted, this.file);
      } catch (err) {
        throw geoError('GEO_UPDATE_SWAP', `cannot move the new database into ${this.file} (${reasonOf(err)}): check the state directory`, { cause: err });
      }
      this.#localValid = true;
      await this.#saveMeta({ lastCheck: now, lastUpdate: now, lastModified: got.lastModified, buildDate: db.buildDate });
      this.#lastError = undefined;
      o.log?.('geo database updated', { edition: o.edition, type: db.type, buildDate: db.buildDate, bytes: db.sizeBytes });
      o.onDatabase(db);
      return { status: 'updated', db };
    } catch (err) {
      const error =
        err && typeof err === 'object' && 'code' in err && String((err as HavenError).code).startsWith('GEO_')
          ? (err as HavenError)
          : geoError('GEO_UPDATE_DOWNLOAD', `update of ${o.edition} failed: ${this.#redact(reasonOf(err))}`, { cause: safeCause(err, this.#redact) });
      this.#lastError = this.#redact(error.message);
      o.onError(error);
      return { status: 'failed', error };
    } finally {
      if (work) await fs.rm(work, { recursive: true, force: true }).catch(() => {});
    }
  }

  /** Metadata readable, a City database, and a sample of records decoding to places. */
  #verify(buffer: Buffer): GeoDatabase {
    const o = this.#o;
    let db: GeoDatabase;
    try {
      db = databaseFromBuffer(buffer, this.file, { source: 'geoip2', recordCacheSize: o.recordCacheSize });
    } catch (err) {
      throw geoError('GEO_UPDATE_VERIFY', `downloaded ${o.edition} is not a readable MaxMind DB (${reasonOf(err)}); keeping the current database`, { cause: err });
    }
    if (!/city/i.test(db.type)) {
      throw geoError('GEO_UPDATE_VERIFY', `downloaded database is "${db.type}", not a City database; check maxmind.edition (e.g. GeoLite2-City); keeping the current database`, {
        details: { type: db.type },
      });
    }
    let located = 0;
    const report = walkNetworks(db, {
      maxNetworks: 512,
      onNetwork: (n) => {
        if (n.record && recordToLocation(n.record, db.source, db.languages)) located++;
      },
    });
    if (report.failed > 0 || report.structural > 0 || located === 0) {
      const why = report.issues[0] ? `${report.issues[0].network}: ${report.issues[0].problem}` : 'no record holds a location';
      throw geoError('GEO_UPDATE_VERIFY', `downloaded ${o.edition} failed verification (${why}); keeping the current database`);
    }
    return db;
  }

  async #saveMeta(meta: Meta): Promise<void> {
    this.#meta = meta;
    await writeFileAtomic(this.#metaFile, `${JSON.stringify(meta, null, 2)}\n`, 0o600);
  }

  /** Schedule checks every `checkEveryHours`, the first one when the last check is that old. */
  start(): void {
    if (this.#stopped || this.#timer) return;
    const every = this.#o.checkEveryHours * 3_600_000;
    const last = this.#meta.lastCheck ? Date.parse(this.#meta.lastCheck) : Number.NaN;
    const due = Number.isFinite(last) && this.#localValid ? last + every : Date.now();
    this.#schedule(due);
  }

  #schedule(at: number): void {
    if (this.#stopped) return;
    this.#nextCheck = at;
    const wait = Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (Date.now() < at) return this.#schedule(at);
      void this.update().then(() => this.#schedule(Date.now() + this.#o.checkEveryHours * 3_600_000));
    }, wait);
    this.#timer.unref();
  }

  /** Stop the timer and cancel a running download; resolves when nothing is left running. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#nextCheck = undefined;
    this.#abort.abort();
    await this.#running?.catch(() => {});
  }

  status(): Record<string, unknown> {
    return {
      edition: this.#o.edition,
      url: this.shownUrl,
      licenseKey: this.#o.licenseKey ? 'set' : 'not set',
      lastCheck: this.#meta.lastCheck,
      lastUpdate: this.#meta.lastUpdate,
      nextCheck: this.#nextCheck ? new Date(this.#nextCheck).toISOString() : undefined,
      lastError: this.#lastError,
    };
  }
}
