import { deriveTokenKey, tokenOfQuery, TOKEN_USER, verifyViewerToken, type TokenVerdict } from '@haven/core';
import type { AuthRequest } from './auth-policy.js';
import { normalizeIp } from './net.js';

let cached: { password: string; key: Buffer } | undefined;
function keyOf(relayPassword: string): Buffer {
  if (cached?.password !== relayPassword) cached = { password: relayPassword, key: deriveTokenKey(relayPassword) };
  return cached.key;
}

/**
 * The gateway's signed viewer token in an RTSP read, checked against what MediaMTX reports: the
 * reader's address, the path, this node's name, now. The token comes as the password of user
 * `haven-token` (a spliced connection: the gateway's proof of its own check) or in the URL query
 * (`?token=`, from a redirect's `Location`; MediaMTX passes the query on DESCRIBE and on SETUP).
 * `undefined`: the request carries no token.
 */
export function checkViewerToken(req: AuthRequest, node: string, relayPassword: string, now = Date.now()): TokenVerdict | undefined {
  if (req.action !== 'read' || (req.protocol !== 'rtsp' && req.protocol !== 'hls') || relayPassword === '') return undefined;
  const token = req.user === TOKEN_USER ? req.password : tokenOfQuery(req.query);
  if (token === undefined) return undefined;
  return verifyViewerToken(keyOf(relayPassword), token, { ip: normalizeIp(req.ip), stream: req.path, node }, now);
}
