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

/**
 * A signed credential `<tag>.<expiry, epoch seconds, base 36>.<key id>.<Ed25519 signature, base64url>`
 * over a message its kind builds from the expiry and key id (viewer tokens `v2`, probe credentials
 * `p1`): signing and checking, written once for both.
 */
const formats = new Map<string, RegExp>();
const formatOf = (tag: string): RegExp => {
  let f = formats.get(tag);
  if (!f) formats.set(tag, (f = new RegExp(`^${tag}\\.([0-9a-z]{1,10})\\.([A-Za-z0-9_-]{11})\\.([A-Za-z0-9_-]{86})$`)));
  return f;
};

/** Sign a credential of kind `tag`, valid `ttlSec` (at most `maxTtlSec`) from `nowMs`. */
export function signTagged(key: ViewerTokenKey, tag: string, body: (exp: string, kid: string) => Buffer, ttlSec: number, maxTtlSec: number, nowMs: number): string {
  const exp = Math.floor(nowMs / 1000 + Math.min(Math.max(1, ttlSec), maxTtlSec)).toString(36);
  return `${tag}.${exp}.${key.id}.${key.signBytes(body(exp, key.id)).toString('base64url')}`;
}

/** Check a credential of kind `tag` against the message its checker expects, with the keys accepted now. Never throws. */
export function verifyTagged(key: ViewerTokenKey, tag: string, token: string, body: (exp: string, kid: string) => Buffer, maxTtlSec: number, nowMs: number): TokenVerdict {
  if (token.length > tag.length + 1 + 10 + 1 + 11 + 1 + 86) return 'malformed';
  const m = formatOf(tag).exec(token);
  if (!m) return 'malformed';
  const exp = m[1] as string;
  const kid = m[2] as string;
  const signer = key.keyFor(kid);
  if (!signer) return 'unknown-signer';
  let ok = false;
  try {
    ok = verify(null, body(exp, kid), signer, Buffer.from(m[3] as string, 'base64url'));
  } catch {
    ok = false;
  }
  if (!ok) return 'bad-signature';
  const expSec = Number.parseInt(exp, 36);
  const nowSec = nowMs / 1000;
  if (!(expSec >= nowSec) || expSec - nowSec > maxTtlSec) return 'expired';
  return 'ok';
}

function message(c: ViewerTokenClaims, exp: string, kid: string): Buffer {
  return Buffer.from(`v2\n${normalizeIp(c.ip)}\n${c.stream}\n${c.node}\n${exp}\n${kid}`, 'utf8');
}

/** Sign a token valid for `ttlSec` seconds from `nowMs`, with the gateway's own key. */
export function signViewerToken(key: ViewerTokenKey, claims: ViewerTokenClaims, ttlSec: number, nowMs = Date.now()): string {
  return signTagged(key, 'v2', (exp, kid) => message(claims, exp, kid), ttlSec, MAX_TOKEN_TTL_SEC, nowMs);
}

/** Check a token against what the verifier sees, with the keys it accepts now. Never throws. */
export function verifyViewerToken(key: ViewerTokenKey, token: string, claims: ViewerTokenClaims, nowMs = Date.now()): TokenVerdict {
  return verifyTagged(key, 'v2', token, (exp, kid) => message(claims, exp, kid), MAX_TOKEN_TTL_SEC, nowMs);
}

/** The token in a raw query string (`a=1&token=...`), if any. */
export function tokenOfQuery(query: string | undefined): string | undefined {
  if (!query) return undefined;
  const v = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query).get(TOKEN_PARAM);
  return v === null || v === '' ? undefined : v;
}
