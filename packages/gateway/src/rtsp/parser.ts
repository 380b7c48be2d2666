/**
 * A bounded RTSP/1.0 request parser. Pure and incremental-friendly: call `parseRequest` on the
 * bytes received so far; it answers `incomplete`, one `request` (with how many bytes it used, so
 * pipelined requests are parsed in turn), or an `error` with the RTSP status to answer before
 * closing. Every limit is checked as soon as the bytes that break it arrive.
 */

export interface RtspLimits {
  /** Max bytes of request line + headers + blank line (leading blank lines included). */
  maxHeaderBytes: number;
  /** Max header lines. */
  maxHeaders: number;
  /** Max Content-Length accepted. Viewers send tiny bodies (GET_PARAMETER) or none. */
  maxBodyBytes: number;
  /** Max request-URI length. */
  maxUriBytes: number;
}

export const DEFAULT_RTSP_LIMITS: RtspLimits = { maxHeaderBytes: 16_384, maxHeaders: 64, maxBodyBytes: 4096, maxUriBytes: 2048 };

export interface RtspRequest {
  method: string;
  uri: string;
  version: string;
  /** Headers as sent (name case kept), in order. */
  headers: Array<[string, string]>;
  body: Buffer;
}

export type ParseOutcome =
  | { kind: 'incomplete' }
  | { kind: 'request'; request: RtspRequest; consumed: number }
  | { kind: 'error'; status: 400 | 413 | 414 | 505; message: string; cseq?: string };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VERSION = /^RTSP\/(\d)\.(\d)$/;
/** CSeq and Content-Length: 1 to 10 digits. */
const CSEQ = /^\d{1,10}$/;
const LF = 10;
const CR = 13;

/** Same name, ASCII case-insensitive (`lower` already lower case); the length is compared first. */
function sameName(k: string, lower: string): boolean {
  return k.length === lower.length && (k === lower || k.toLowerCase() === lower);
}

/** First value of a header, by case-insensitive name. */
export function getHeader(req: Pick<RtspRequest, 'headers'>, name: string): string | undefined {
  const lower = name.toLowerCase();
  const hs = req.headers;
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i] as [string, string];
    if (sameName(h[0], lower)) return h[1];
  }
  return undefined;
}

/** Every value of a header, by case-insensitive name. */
export function getHeaders(req: Pick<RtspRequest, 'headers'>, name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const [k, v] of req.headers) if (sameName(k, lower)) out.push(v);
  return out;
}

/** Request-line bytes: printable ASCII and SP. */
function badLineByte(b: number): boolean {
  return b < 0x20 || b > 0x7e;
}

/** Header bytes: printable ASCII, SP, HT and obs-text (UTF-8 user agents). */
function badHeaderByte(b: number): boolean {
  return (b < 0x20 && b !== 9) || b === 0x7f;
}

/** A cheap pre-check on a new chunk: worth (re)parsing when it ends a line or carries a control byte. */
export function chunkNeedsParse(chunk: Uint8Array): boolean {
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i] as number;
    if (b === LF || (b < 0x20 && b !== CR && b !== 9) || b === 0x7f) return true;
  }
  return false;
}

function err(status: 400 | 413 | 414 | 505, message: string, cseq?: string): ParseOutcome {
  return cseq === undefined ? { kind: 'error', status, message } : { kind: 'error', status, message, cseq };
}

/** Where the line starting at `from` ends (its LF, before `limit`); -1 when no LF yet. */
function lineEnd(buf: Buffer, from: number, limit: number): number {
  if (from >= buf.length) return -1;
  const i = buf.indexOf(LF, from); // memchr, not a byte loop in JS
  return i >= 0 && i < limit ? i : -1;
}

const NO_BODY = Buffer.alloc(0);

export function parseRequest(buf: Buffer, limits: RtspLimits = DEFAULT_RTSP_LIMITS): ParseOutcome {
  let start = 0;
  while (start < buf.length && (buf[start] === CR || buf[start] === LF)) start++;
  if (start >= limits.maxHeaderBytes) return err(400, 'too many blank lines');
  if (start === buf.length) return { kind: 'incomplete' };
  const headLimit = start + limits.maxHeaderBytes;

  // Request line: reject binary as soon as it shows, even before the line ends.
  const lf = lineEnd(buf, start, headLimit);
  const lineStop = lf < 0 ? Math.min(buf.length, headLimit) : lf;
  for (let i = start; i < lineStop; i++) {
    const b = buf[i] as number;
    if (badLineByte(b) && !(b === CR && i === (lf < 0 ? buf.length - 1 : lf - 1))) return err(400, 'binary data in request line');
  }
  if (lf < 0) {
    if (buf.length - start >= limits.maxHeaderBytes) return err(400, 'request line too long');
    return { kind: 'incomplete' };
  }
  const line = buf.toString('latin1', start, buf[lf - 1] === CR ? lf - 1 : lf);
  const parts = line.split(' ');
  if (parts.length === 2) return err(400, 'request line without version');
  if (parts.length !== 3) return err(400, 'malformed request line');
  const [method, uri, version] = parts as [string, string, string];
  if (!TOKEN.test(method)) return err(400, 'malformed method');
  if (uri.length === 0) return err(400, 'empty request URI');
  if (uri.length > limits.maxUriBytes) return err(414, 'request URI too long');
  const v = VERSION.exec(version);
  if (!v) return err(400, 'not an RTSP request');
  if (v[1] !== '1') return err(505, 'RTSP version not supported');

  // Headers, line by line, until an empty line.
  const headers: Array<[string, string]> = [];
  let pos = lf + 1;
  let bodyStart = -1;
  let cseq: string | undefined;
  let lengths: string[] | undefined;
  for (;;) {
    const end = lineEnd(buf, pos, headLimit);
    if (end < 0) {
      if (buf.length >= headLimit) return err(400, 'headers too large', cseq);
      return { kind: 'incomplete' };
    }
    const stop = buf[end - 1] === CR && end > pos ? end - 1 : end;
    if (stop === pos) {
      bodyStart = end + 1;
      break;
    }
    for (let i = pos; i < stop; i++) if (badHeaderByte(buf[i] as number)) return err(400, 'control byte in header', cseq);
    const first = buf[pos] as number;
    if (first === 0x20 || first === 9) return err(400, 'folded header lines are not accepted', cseq);
    const text = buf.toString('latin1', pos, stop);
    const colon = text.indexOf(':');
    if (colon <= 0) return err(400, 'malformed header', cseq);
    const name = text.slice(0, colon);
    if (!TOKEN.test(name)) return err(400, 'malformed header name', cseq);
    if (headers.length >= limits.maxHeaders) return err(400, 'too many headers', cseq);
    const value = text.slice(colon + 1).trim();
    headers.push([name, value]);
    if (cseq === undefined && sameName(name, 'cseq')) cseq = value;
    else if (sameName(name, 'content-length')) (lengths ??= []).push(value);
    pos = end + 1;
  }

  if (cseq === undefined) return err(400, 'CSeq is missing');
  if (!CSEQ.test(cseq)) return err(400, 'malformed CSeq');
  let length = 0;
  if (lengths !== undefined) {
    if (lengths.some((l) => l !== lengths[0])) return err(400, 'conflicting Content-Length', cseq);
    const l = lengths[0] as string;
    if (!CSEQ.test(l)) return err(400, 'malformed Content-Length', cseq);
    length = Number(l);
    if (length > limits.maxBodyBytes) return err(413, 'body too large', cseq);
  }
  if (buf.length < bodyStart + length) return { kind: 'incomplete' };
  const body = length === 0 ? NO_BODY : Buffer.from(buf.subarray(bodyStart, bodyStart + length));
  return { kind: 'request', request: { method, uri, version, headers, body }, consumed: bodyStart + length };
}
