import { normalizeIp, type ViewerTokenKey } from '@haven/core';
import { tokenOfQuery, TOKEN_USER, verifyViewerToken, type TokenVerdict } from '@haven/gateway';
import type { AuthRequest } from './auth-request.js';

/**
 * The gateway's signed viewer token in an RTSP read, checked against what MediaMTX reports: the
 * reader's address, the path, this node's name, now, and the keys this machine accepts (its own and
 * those of the entries in its current routing state: see `ViewerTokenKey`). The token comes as the
 * password of user `haven-token` (a spliced connection: the gateway's proof of its own check) or in
 * the URL query (`?token=`, from a redirect's `Location`; MediaMTX passes the query on DESCRIBE and
 * on SETUP). `undefined`: the request carries no token, or this machine has no token key.
 */
export function checkViewerToken(req: AuthRequest, node: string, key: ViewerTokenKey | undefined, now = Date.now()): TokenVerdict | undefined {
  if (req.action !== 'read' || (req.protocol !== 'rtsp' && req.protocol !== 'hls') || key === undefined) return undefined;
  const token = req.user === TOKEN_USER ? req.password : tokenOfQuery(req.query);
  if (token === undefined) return undefined;
  return verifyViewerToken(key, token, { ip: normalizeIp(req.ip), stream: req.path, node }, now);
}
