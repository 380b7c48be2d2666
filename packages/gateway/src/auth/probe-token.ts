import type { ViewerTokenKey } from '@haven/core';
import { signTagged, verifyTagged, type TokenVerdict } from './token.js';

/**
 * The probe credential: how a gateway knows a request is the health probe of the origin or of another
 * entry, not a viewer that sends the probe's User-Agent. `p1.<expiry, epoch seconds, base 36>.<key
 * id>.<Ed25519 signature, base64url>` over `{node probed, expiry, key id}`, signed with the prober's
 * own token key and checked with the keys the node accepts (the origin's and the routing state's
 * entries'). Unlike a viewer token it is not bound to an address: the origin behind a NAT is seen at
 * another address than its own, and the probe must still be recognised. What it grants is small: a
 * request that also authenticates as a viewer is served here (never redirected: a 302 would have the
 * prober call a live, full node down), and the connection is kept for later probes in its own budget
 * (see `ProbeSlots`). It never replaces the viewer's credentials.
 */

/** The request header that carries it. */
export const PROBE_HEADER = 'Haven-Probe';
/** Lifetime a prober signs for, seconds; a verifier takes at most `MAX_PROBE_TTL_SEC`. */
export const PROBE_TOKEN_TTL_SEC = 60;
const MAX_PROBE_TTL_SEC = 300;


function message(node: string, exp: string, kid: string): Buffer {
  return Buffer.from(`p1\n${node}\n${exp}\n${kid}`, 'utf8');
}

/** Sign a probe credential for `node`, valid `ttlSec` from `nowMs`. */
export function signProbeToken(key: ViewerTokenKey, node: string, ttlSec = PROBE_TOKEN_TTL_SEC, nowMs = Date.now()): string {
  return signTagged(key, 'p1', (exp, kid) => message(node, exp, kid), ttlSec, MAX_PROBE_TTL_SEC, nowMs);
}

/** Check a probe credential for this node (`self`) with the keys accepted now. Never throws. */
export function verifyProbeToken(key: ViewerTokenKey, token: string, self: string, nowMs = Date.now()): TokenVerdict {
  return verifyTagged(key, 'p1', token, (exp, kid) => message(self, exp, kid), MAX_PROBE_TTL_SEC, nowMs);
}

/**
 * A prober's credentials, one per node, signed again when half their lifetime is gone (a probe a
 * second per node would otherwise sign at that rate). Undefined while there is no key, and when
 * asking for it throws (a Haven not started yet): the probe then goes without one, since a node must
 * not be called down for what went wrong on the prober's side.
 */
export function probeTokens(key: () => ViewerTokenKey | undefined, ttlSec = PROBE_TOKEN_TTL_SEC): (node: string) => string | undefined {
  const cache = new Map<string, { token: string; until: number; kid: string }>();
  const current = () => {
    try {
      return key();
    } catch {
      return undefined;
    }
  };
  return (node) => {
    const k = current();
    if (!k) return undefined;
    const now = Date.now();
    const c = cache.get(node);
    if (c && c.kid === k.id && c.until > now) return c.token;
    const token = signProbeToken(k, node, ttlSec, now);
    if (cache.size > 4096) cache.clear();
    cache.set(node, { token, until: now + (ttlSec * 1000) / 2, kid: k.id });
    return token;
  };
}
