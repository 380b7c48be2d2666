import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Reader, type Response } from 'maxmind';
import { geoError, reasonOf } from './errors.js';
import { LruCache } from './lru.js';

const METADATA_MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'); // "\xAB\xCD\xEFMaxMind.com"
const DATA_SECTION_SEPARATOR = 16;

/** An opened `.mmdb` file, held in memory. */
export interface GeoDatabase {
  /** File it came from (for messages and status). */
  readonly path: string;
  /** Which source answers through it: `dbip`, `geoip2`, `mmdb`... (reported as `ViewerLocation.source`). */
  readonly source: string;
  /** `database_type` from the metadata, e.g. `GeoLite2-City`, `city ipv4`. */
  readonly type: string;
  readonly ipVersion: 4 | 6;
  /** Build date as an ISO date, or `invalid (...)` when `build_epoch` is out of range. */
  readonly buildDate: string;
  readonly buildDateValid: boolean;
  readonly languages: readonly string[];
  readonly nodeCount: number;
  readonly recordSize: 24 | 28 | 32;
  readonly searchTreeSize: number;
  /** Offset where the data section ends (the metadata marker). */
  readonly dataSectionEnd: number;
  readonly sizeBytes: number;
  readonly buffer: Buffer;
  /** The raw record for an address the reader accepts, or null. Throws on a corrupt record. */
  get(ip: string): unknown;
  /**
   * The search tree's answer for an IPv4 address given as a uint32 (an IPv6 database answers
   * through its `::/96` subtree): a data pointer for `recordAt`, or 0 when no record covers it.
   */
  pointerV4(v4: number): number;
  /**
   * The raw record a `pointerV4` answer names (`v4`: the address it was found for). Throws on a
   * corrupt record.
   */
  recordAt(pointer: number, v4: number): unknown;
}

export interface OpenDatabaseOptions {
  /** Source label; default: `geoip2` for MaxMind database types, `mmdb` otherwise. */
  source?: string;
  /** Entries in the decoded-record cache (per database); 0 disables it. Default 10000. */
  recordCacheSize?: number;
}

function isGzip(buf: Buffer): boolean {
  return buf.length > 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/** Build date without overflow: `build_epoch` can be up to 2^64-1 in a valid file. */
function buildDateOf(epoch: Date): { text: string; valid: boolean } {
  const t = epoch instanceof Date ? epoch.getTime() : Number.NaN;
  if (!Number.isFinite(t)) return { text: 'invalid (build_epoch out of range)', valid: false };
  return { text: new Date(t).toISOString().slice(0, 10), valid: true };
}

function describeLoadError(err: unknown): string {
  if (err instanceof RangeError && /call stack/i.test(err.message)) return 'metadata nesting too deep or a pointer cycle';
  return reasonOf(err);
}

/**
 * The IPv4 search-tree walk, one closure per record size, reading the bytes in place. Every node
 * below node_count lies inside the search tree (checked at open), and the walk ends after 32 bits,
 * so no file makes it read out of bounds or loop. Same walk as the reader's, without its parse of
 * the address text (split + parseInt per lookup), which cost more than the walk itself.
 */
function v4Walker(buf: Buffer, recordSize: 24 | 28 | 32, nodeCount: number, start: number): (v4: number) => number {
  const walk = (next: (off: number, right: number) => number) => (v4: number): number => {
    let node = start;
    for (let bit = 31; bit >= 0 && node < nodeCount; bit--) node = next(node, (v4 >>> bit) & 1);
    return node > nodeCount ? node : 0;
  };
  if (recordSize === 24) {
    return walk((node, right) => {
      const o = node * 6 + right * 3;
      return (buf[o]! << 16) | (buf[o + 1]! << 8) | buf[o + 2]!;
    });
  }
  if (recordSize === 28) {
    return walk((node, right) => {
      const o = node * 7;
      return right
        ? (buf[o + 3]! & 0x0f) * 0x1000000 + ((buf[o + 4]! << 16) | (buf[o + 5]! << 8) | buf[o + 6]!)
        : (buf[o + 3]! >> 4) * 0x1000000 + ((buf[o]! << 16) | (buf[o + 1]! << 8) | buf[o + 2]!);
    });
  }
  return walk((node, right) => buf.readUInt32BE(node * 8 + right * 4));
}

/** First node of the IPv4 subtree: 0 in an IPv4 tree, the end of 96 left steps (::/96) in an IPv6 one. */
function ipv4Start(buf: Buffer, recordSize: 24 | 28 | 32, nodeCount: number, ipVersion: 4 | 6): number {
  if (ipVersion === 4) return 0;
  let node = 0;
  for (let i = 0; i < 96 && node < nodeCount; i++) {
    const o = node * (recordSize / 4);
    if (recordSize === 24) node = (buf[o]! << 16) | (buf[o + 1]! << 8) | buf[o + 2]!;
    else if (recordSize === 28) node = (buf[o + 3]! >> 4) * 0x1000000 + ((buf[o]! << 16) | (buf[o + 1]! << 8) | buf[o + 2]!);
    else node = buf.readUInt32BE(o);
  }
  return node;
}

/**
 * The pointer -> record step of the reader (the part of its `get` after the tree walk, through its
 * record cache). mmdb-lib keeps it private; should a version drop it, the address is looked up again.
 */
function recordAtOf(reader: Reader<Response>): (pointer: number, v4: number) => unknown {
  const resolve = (reader as unknown as { resolveDataPointer?: (pointer: number) => unknown }).resolveDataPointer;
  if (typeof resolve === 'function') return (pointer) => resolve.call(reader, pointer);
  return (_pointer, v4) => reader.get(`${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`);
}

/** Open a database from bytes already in memory (a download being verified, a test fixture). */
export function databaseFromBuffer(buffer: Buffer, file: string, options: OpenDatabaseOptions = {}): GeoDatabase {
  const name = path.basename(file);
  const invalid = (why: string, cause?: unknown) =>
    geoError('GEO_DB_INVALID', `${file} is not a usable MaxMind DB file: ${why}. Replace it with a fresh copy (or remove it from the config)`, {
      cause,
      details: { path: file },
    });
  if (isGzip(buffer)) throw invalid('it is gzip-compressed; extract the .mmdb from the archive first');
  const markerAt = buffer.lastIndexOf(METADATA_MARKER);
  if (markerAt < 0) throw invalid('no metadata section (is it a .mmdb file?)');
  const cacheSize = options.recordCacheSize ?? 10_000;
  let reader: Reader<Response>;
  try {
    reader = new Reader<Response>(buffer, cacheSize > 0 ? { cache: new LruCache<number, unknown>(cacheSize) as never } : {});
  } catch (err) {
    throw invalid(`metadata or search tree unreadable (${describeLoadError(err)})`, err);
  }
  const m = reader.metadata;
  if (m.binaryFormatMajorVersion !== 2) throw invalid(`binary format ${String(m.binaryFormatMajorVersion)} is not supported (expected 2)`);
  if (m.ipVersion !== 4 && m.ipVersion !== 6) throw invalid(`ip_version ${String(m.ipVersion)} (expected 4 or 6)`);
  if (!Number.isSafeInteger(m.nodeCount) || m.nodeCount <= 0) throw invalid(`node_count ${String(m.nodeCount)} is not a positive integer`);
  if (typeof m.databaseType !== 'string' || m.databaseType.length === 0) throw invalid('metadata has no database_type');
  if (m.searchTreeSize + DATA_SECTION_SEPARATOR > markerAt) {
    throw invalid(`search tree (${m.searchTreeSize} bytes) does not fit before the metadata at byte ${markerAt}: the file is truncated or corrupt`);
  }
  const build = buildDateOf(m.buildEpoch);
  const languages = Array.isArray(m.languages) ? m.languages.filter((l): l is string => typeof l === 'string') : [];
  const source = options.source ?? (/^(GeoIP2|GeoLite2)-/.test(m.databaseType) ? 'geoip2' : 'mmdb');
  return {
    path: file,
    source,
    type: m.databaseType,
    ipVersion: m.ipVersion,
    buildDate: build.text,
    buildDateValid: build.valid,
    languages,
    nodeCount: m.nodeCount,
    recordSize: m.recordSize as 24 | 28 | 32,
    searchTreeSize: m.searchTreeSize,
    dataSectionEnd: markerAt,
    sizeBytes: buffer.length,
    buffer,
    get: (ip: string) => reader.get(ip),
    pointerV4: v4Walker(buffer, m.recordSize as 24 | 28 | 32, m.nodeCount, ipv4Start(buffer, m.recordSize as 24 | 28 | 32, m.nodeCount, m.ipVersion)),
    recordAt: recordAtOf(reader),
    toString: () => `${name} (${m.databaseType})`,
  } as GeoDatabase;
}

/** Read and check a `.mmdb` file. Errors are HavenErrors naming the file and what to do. */
export async function openDatabase(file: string, options: OpenDatabaseOptions = {}): Promise<GeoDatabase> {
  let buffer: Buffer;
  try {
    buffer = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw geoError('GEO_DB_MISSING', `database file ${file} does not exist: check plugins.geo.database`, { cause: err, details: { path: file } });
    }
    throw geoError('GEO_DB_INVALID', `cannot read database file ${file} (${code ?? reasonOf(err)})`, { cause: err, details: { path: file } });
  }
  return databaseFromBuffer(buffer, file, options);
}
