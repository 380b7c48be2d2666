import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { TokenSource } from './types.js';

/** An error the API answers with its status and a JSON body `{ error: { code, message, issues? } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues?: Array<{ path: Array<string | number>; message: string }>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Headers on every answer: no caching of API data, no sniffing, no framing, nothing external. */
export const BASE_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'cross-origin-resource-policy': 'same-origin',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...BASE_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.issues) error.issues = err.issues;
  sendJson(res, err.status, { error }, err.headers);
}

/** `path: message; path: message` from a zod error, the way users read config errors too. */
export function zodMessage(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

export function badRequest(error: z.ZodError, what: string): ApiError {
  const issues = error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
  return new ApiError(400, 'BAD_REQUEST', `invalid ${what}: ${zodMessage(error)}`, issues);
}

/** Read a JSON body of at most `limit` bytes; 415 for other content types, 413 past the limit. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'expected a JSON body (content-type: application/json)');
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new ApiError(413, 'BODY_TOO_LARGE', `request body is larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new ApiError(413, 'BODY_TOO_LARGE', `request body is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new ApiError(400, 'BAD_REQUEST', 'invalid body: expected a JSON object, got an empty body');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, 'BAD_REQUEST', 'invalid body: not valid JSON');
  }
}

const digest = (v: string) => createHash('sha256').update(v, 'utf8').digest();

/** The Bearer token of a request, if it has one. */
function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  return /^Bearer[ \t]+(\S+)\s*$/i.exec(header)?.[1];
}

/** The node whose own credential the request's Bearer token is (`nodeOf` compares in constant time). */
export function nodeOfBearer(req: IncomingMessage, nodeOf: ((token: string) => string | undefined) | undefined): string | undefined {
  const token = nodeOf ? bearerOf(req) : undefined;
  return token === undefined || token.length > 256 ? undefined : nodeOf!(token);
}

/** Constant-time comparison of the request's Bearer token with any of the accepted tokens. */
export function bearerMatches(req: IncomingMessage, sources: Array<TokenSource | undefined>): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return false;
  const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  // Hashing first gives equal lengths, so timingSafeEqual never leaks the token's length.
  const given = digest(m[1]!);
  let ok = false;
  for (const source of sources) {
    const token = typeof source === 'function' ? source() : source;
    if (!token) continue;
    if (timingSafeEqual(given, digest(token))) ok = true;
  }
  return ok;
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'UNAUTHORIZED', 'this call needs the API token: send "Authorization: Bearer <token>"', undefined, {
    'www-authenticate': 'Bearer realm="haven"',
  });
}
