import { createHmac, timingSafeEqual } from 'node:crypto';
import { normalizeIp } from '../routing/ip.js';

/**
 * Short-lived viewer tokens: what the gateway puts in a redirect's `Location` (and in the spliced
 * connection's Authorization, as the internal proof of its own check) instead of the viewer password.
 *
 * A token is `v1.<expiry, epoch seconds, base 36>.<HMAC-SHA256, base64url, 32 chars>` over
 * `{viewer IP, stream, node, expiry}`. The node checks it against what it sees itself (the reader's
 * address, the path, its own name, its clock), so a token replayed from another address, for another
 * stream or another node, or after expiry, is refused. The key never leaves a machine's memory: both
 * ends derive it from the relay password they already share (see `deriveTokenKey`).
 */

/** Query parameter that carries the token (MediaMTX also hands `?token=` to its auth hook as `token`). */
export const TOKEN_PARAM = 'token';
/** User name the gateway sends, with a token as the password, to the local media server on a splice. */
export const TOKEN_USER = 'haven-token';
/** Longest lifetime a verifier accepts, seconds (a token claiming more is forged or from a bad clock). */
export const MAX_TOKEN_TTL_SEC = 600;

export interface ViewerTokenClaims {
  /** The viewer's address as the node will see it. */
  ip: string;
  stream: string;
  /** The node's name, as the origin's registry knows it. */
  node: string;
}

export type TokenVerdict = 'ok' | 'malformed' | 'bad-signature' | 'expired';

const FORMAT = /^v1\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{32})$/;

/** The token key shared by the origin and its nodes, from the relay password (HMAC as a KDF, labelled). */
export function deriveTokenKey(relayPassword: string): Buffer {
  return createHmac('sha256', relayPassword).update('stream-haven viewer token v1').digest();
}

function mac(key: Buffer, c: ViewerTokenClaims, exp: string): string {
  return createHmac('sha256', key)
    .update(`v1\n${normalizeIp(c.ip)}\n${c.stream}\n${c.node}\n${exp}`)
    .digest('base64url')
    .slice(0, 32);
}

/** Sign a token valid for `ttlSec` seconds from `nowMs`. */
export function signViewerToken(key: Buffer, claims: ViewerTokenClaims, ttlSec: number, nowMs = Date.now()): string {
  const exp = Math.floor(nowMs / 1000 + Math.min(Math.max(1, ttlSec), MAX_TOKEN_TTL_SEC)).toString(36);
  return `v1.${exp}.${mac(key, claims, exp)}`;
}

/** Check a token against what the verifier sees. Constant-time on the signature; never throws. */
export function verifyViewerToken(key: Buffer, token: string, claims: ViewerTokenClaims, nowMs = Date.now()): TokenVerdict {
  if (token.length > 64) return 'malformed';
  const m = FORMAT.exec(token);
  if (!m) return 'malformed';
  const exp = m[1] as string;
  const given = Buffer.from(m[2] as string, 'latin1');
  const expected = Buffer.from(mac(key, claims, exp), 'latin1');
  if (!timingSafeEqual(given, expected)) return 'bad-signature';
  const expSec = Number.parseInt(exp, 36);
  const nowSec = nowMs / 1000;
  if (!(expSec >= nowSec) || expSec - nowSec > MAX_TOKEN_TTL_SEC) return 'expired';
  return 'ok';
}

/** The token in a raw query string (`a=1&token=...`), if any. */
export function tokenOfQuery(query: string | undefined): string | undefined {
  if (!query) return undefined;
  const v = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query).get(TOKEN_PARAM);
  return v === null || v === '' ? undefined : v;
}
