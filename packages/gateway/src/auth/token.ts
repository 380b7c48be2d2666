import { verify } from 'node:crypto';
import { normalizeIp, type ViewerTokenKey } from '@haven/core';

/**
 * Short-lived viewer tokens: what a gateway puts in a redirect's `Location` (and in the spliced
 * connection's Authorization, as the internal proof of its own check) instead of the viewer password.
 *
 * A token is `v2.<expiry, epoch seconds, base 36>.<key id>.<Ed25519 signature, base64url>` over
 * `{viewer IP, stream, node, expiry, key id}`. Every gateway (each entry node, the origin) signs with
 * its own key pair; a verifier accepts a signature only from its own key or from a key it was told to
 * accept (an entry of its current routing state), so a node that leaves the Haven can no longer mint
 * tokens anyone takes. The verifier checks the claims against what it sees itself (the reader's
 * address, the path, its own name, its clock): a token replayed from another address, for another
 * stream or another node, or after expiry, is refused.
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

/** `unknown-signer`: well-formed, but signed by a key this verifier does not accept (now). */
export type TokenVerdict = 'ok' | 'malformed' | 'bad-signature' | 'expired' | 'unknown-signer';

const FORMAT = /^v2\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{11})\.([A-Za-z0-9_-]{86})$/;
/** Longest token `FORMAT` matches. */
const MAX_LENGTH = 3 + 10 + 1 + 11 + 1 + 86;

function message(c: ViewerTokenClaims, exp: string, kid: string): Buffer {
  return Buffer.from(`v2\n${normalizeIp(c.ip)}\n${c.stream}\n${c.node}\n${exp}\n${kid}`, 'utf8');
}

/** Sign a token valid for `ttlSec` seconds from `nowMs`, with the gateway's own key. */
export function signViewerToken(key: ViewerTokenKey, claims: ViewerTokenClaims, ttlSec: number, nowMs = Date.now()): string {
  const exp = Math.floor(nowMs / 1000 + Math.min(Math.max(1, ttlSec), MAX_TOKEN_TTL_SEC)).toString(36);
  return `v2.${exp}.${key.id}.${key.signBytes(message(claims, exp, key.id)).toString('base64url')}`;
}

/** Check a token against what the verifier sees, with the keys it accepts now. Never throws. */
export function verifyViewerToken(key: ViewerTokenKey, token: string, claims: ViewerTokenClaims, nowMs = Date.now()): TokenVerdict {
  if (token.length > MAX_LENGTH) return 'malformed';
  const m = FORMAT.exec(token);
  if (!m) return 'malformed';
  const exp = m[1] as string;
  const kid = m[2] as string;
  const signer = key.keyFor(kid);
  if (!signer) return 'unknown-signer';
  let ok = false;
  try {
    ok = verify(null, message(claims, exp, kid), signer, Buffer.from(m[3] as string, 'base64url'));
  } catch {
    ok = false;
  }
  if (!ok) return 'bad-signature';
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
