import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { extract } from 'tar';
import { geoError, reasonOf } from './errors.js';

/** Replaces a secret (and its URL-encoded form) in any text. */
export type Redact = (text: string) => string;

export function makeRedactor(secrets: Array<string | undefined>): Redact {
  const values = secrets.filter((s): s is string => !!s).flatMap((s) => [s, encodeURIComponent(s)]);
  return (text: string) => {
    let out = text;
    for (const v of values) out = out.split(v).join('[redacted]');
    // Belt and braces: a key in a query string is masked even if it was not registered.
    return out.replace(/(license_key=)[^&\s"']+/gi, '$1[redacted]');
  };
}

/** An Error safe to keep as `cause`: message redacted, code kept, no stack carrying the URL. */
export function safeCause(err: unknown, redact: Redact): Error {
  const e = new Error(redact(reasonOf(err)));
  const inner = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
  const code = (err as NodeJS.ErrnoException)?.code ?? inner?.code;
  if (code) (e as NodeJS.ErrnoException).code = code;
  if (inner && inner !== err) e.message += ` (${redact(reasonOf(inner))})`;
  return e;
}

export interface DownloadRequest {
  url: string;
  headers?: Record<string, string>;
  /** File to write (created 0600). */
  file: string;
  timeoutMs: number;
  maxBytes: number;
  /** Sent as If-Modified-Since: a 304 answer means the copy we have is current. */
  ifModifiedSince?: string;
  signal?: AbortSignal;
  redact: Redact;
}

export type DownloadResult = { status: 'not-modified' } | { status: 'downloaded'; bytes: number; lastModified?: string };

/** Stream a URL to a file with a size cap and a deadline. Errors never contain the secret. */
export async function download(req: DownloadRequest): Promise<DownloadResult> {
  const shown = req.redact(req.url);
  const signals = [AbortSignal.timeout(req.timeoutMs), ...(req.signal ? [req.signal] : [])];
  const signal = AbortSignal.any(signals);
  const headers: Record<string, string> = { 'user-agent': 'stream-haven-geo', ...req.headers };
  if (req.ifModifiedSince) headers['if-modified-since'] = req.ifModifiedSince;
  const fail = (why: string, cause?: unknown) =>
    geoError('GEO_UPDATE_DOWNLOAD', `download from ${shown} failed: ${why}`, {
      cause: cause === undefined ? undefined : safeCause(cause, req.redact),
      details: { url: shown },
    });
  let res: Response;
  try {
    res = await fetch(req.url, { headers, signal, redirect: 'follow' });
  } catch (err) {
    throw fail(signal.aborted ? (req.signal?.aborted ? 'cancelled' : `no answer within ${req.timeoutMs} ms`) : reasonOf(safeCause(err, req.redact)), err);
  }
  if (res.status === 304) {
    await res.body?.cancel().catch(() => {});
    return { status: 'not-modified' };
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => {});
    const hint = res.status === 401 || res.status === 403 ? ': check the licence key, account ID and edition' : '';
    throw fail(`HTTP ${res.status} ${res.statusText}${hint}`);
  }
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > req.maxBytes) {
    await res.body.cancel().catch(() => {});
    throw fail(`archive is ${declared} bytes, over the ${req.maxBytes} byte limit (maxmind.maxBytes)`);
  }
  let bytes = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > req.maxBytes) done(new Error(`archive exceeds the ${req.maxBytes} byte limit (maxmind.maxBytes)`));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), cap, createWriteStream(req.file, { mode: 0o600 }), { signal });
  } catch (err) {
    throw fail(signal.aborted ? `no complete answer within ${req.timeoutMs} ms` : reasonOf(err), err);
  }
  const lastModified = res.headers.get('last-modified') ?? undefined;
  return lastModified ? { status: 'downloaded', bytes, lastModified } : { status: 'downloaded', bytes };
}

/**
 * Extract the edition's `.mmdb` from a tar.gz into `dir`. The gzip CRC and the tar header checksums
 * are checked (strict mode: any damage is an error, not a warning); only regular `.mmdb` files are
 * written, and the library keeps them inside `dir`.
 */
export async function extractMmdb(archive: string, dir: string, edition: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await extract({
      file: archive,
      cwd: dir,
      strict: true,
      gzip: true,
      filter: (p, entry) => p.endsWith('.mmdb') && (!('type' in entry) || entry.type === 'File'),
    });
  } catch (err) {
    throw geoError('GEO_UPDATE_ARCHIVE', `downloaded archive is not a valid tar.gz (${reasonOf(err)}): the download was damaged or is not a database archive`, {
      cause: err,
    });
  }
  const found = (await fs.readdir(dir, { recursive: true })).map(String).filter((f) => f.endsWith('.mmdb'));
  const exact = found.filter((f) => path.basename(f) === `${edition}.mmdb`);
  const pick = exact.length === 1 ? exact[0] : found.length === 1 ? found[0] : undefined;
  if (!pick) {
    throw geoError(
      'GEO_UPDATE_ARCHIVE',
      found.length === 0 ? `downloaded archive holds no .mmdb file (expected ${edition}.mmdb)` : `downloaded archive holds ${found.length} .mmdb files and none is ${edition}.mmdb`,
    );
  }
  return path.join(dir, pick);
}
