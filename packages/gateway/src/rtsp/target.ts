import { TOKEN_PARAM } from '../auth/token.js';

/** Stream name and the rest of an RTSP request URI (`rtsp://host/live/trackID=0?x` -> `live`, `/trackID=0?x`). */
export function streamOfUri(uri: string): { stream: string; suffix: string } | undefined {
  if (uri === '*') return undefined;
  let rest = uri;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  else if (!rest.startsWith('/')) return undefined;
  const q = rest.search(/[?#]/);
  const path = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q).replace(/#.*$/, '');
  const m = /^\/+([^/]+)(\/.*)?$/.exec(path);
  if (!m) return { stream: '', suffix: query };
  return { stream: m[1] as string, suffix: (m[2] ?? '').replace(/\/+$/, '') + query };
}

/**
 * Where a redirect sends a viewer: `<node base>/<stream>/token=<token>` (no token: `<node base>/<stream>`).
 *
 * The token is the LAST PATH SEGMENT, never a query: the SDP the viewer gets next carries relative
 * track controls (`trackID=0`) and the viewer resolves them against `Content-Base`, else the URL it
 * asked, by its own rule. With a query (`…/live?token=T`) the rules disagree and GStreamer's lose the
 * stream (RFC 3986 resolution gives `/trackID=0`; its concatenation fallback `…?token=T/trackID=0`).
 * With the token as the last segment every rule keeps the stream in the path:
 * RFC 2326 C.1.1 / RFC 3986 5.2 (GStreamer `gst_uri_join_strings`) replaces it (`/live/trackID=0`),
 * concatenation (FFmpeg, live555, GStreamer's non-compliant retry, media3 `appendEncodedPath`) appends
 * to it (`/live/token=T/trackID=0`). The gateway that admits the token maps every such form back to
 * `/<stream>/<control>` before its media server sees it (`forwardUri`), and forwards the DESCRIBE
 * without the token, so the `Content-Base` the viewer gets (`rtsp://node/live/`) is clean anyway.
 */
export function tokenLocation(base: string, stream: string, token: string | undefined): string {
  return `${base.replace(/\/+$/, '')}/${stream}${token ? `/${TOKEN_PARAM}=${token}` : ''}`;
}

export interface TokenUri {
  /** `host:port` as written (user-info dropped, lower case); '' for a path-only URI. */
  authority: string;
  /** Path segments without the token segment (percent-encoding kept). */
  segments: string[];
  /** The token, from a `token=` path segment or a `token` query parameter (older Locations, probes). */
  token?: string;
}

const TOKEN_SEGMENT = new RegExp(`^${TOKEN_PARAM}(?:=|%3d)(.+)$`, 'i');

/**
 * Read an RTSP request URI as a redirected player may have built it from a token `Location` and the
 * SDP: the token in a path segment (`/live/token=T`, `/live/token=T/trackID=0`) or in the query
 * (`/live?token=T`, FFmpeg-style `/live?token=T/trackID=0`, media3-style `/live/trackID=0?token=T`).
 * Undefined for `*` and anything that is not an absolute `scheme://` URI or an absolute path.
 */
export function readTokenUri(uri: string): TokenUri | undefined {
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]*))?(\/[^?#]*)?(?:\?([^#]*))?(?:#.*)?$/i.exec(uri);
  if (!m || (m[1] === undefined && m[2] === undefined)) return undefined;
  const out: TokenUri = { authority: (m[1] ?? '').toLowerCase(), segments: [] };
  for (const s of (m[2] ?? '').split('/')) {
    if (s === '') continue;
    const t = TOKEN_SEGMENT.exec(s);
    if (t && out.token === undefined) out.token = t[1] as string;
    else out.segments.push(s);
  }
  for (const part of (m[3] ?? '').split('&')) {
    const t = TOKEN_SEGMENT.exec(part);
    if (!t) continue;
    // A control appended after the query (`?token=T/trackID=0`) belongs to the path.
    const [token, ...rest] = (t[1] as string).split('/');
    if (out.token === undefined && token) out.token = token;
    out.segments.push(...rest.filter((s) => s !== ''));
  }
  return out;
}

/**
 * The URI a token-admitted (or same-connection) read forwards to the local media server: the
 * session's stream, then whatever control the player resolved, token and query removed
 * (`rtsp://node/live/token=T/trackID=0`, `rtsp://node/trackID=0`, `…/live?token=T/trackID=0` all give
 * `rtsp://node/live/trackID=0`; the aggregate URL gives `rtsp://node/live`). The session's stream is
 * the one the token was checked for, so a player cannot reach another stream on this connection.
 */
export function forwardUri(uri: string, stream: string, fallbackAuthority: string): string {
  if (uri === '*') return uri;
  const t = readTokenUri(uri);
  if (!t) return uri;
  const segs = t.segments[0] === stream ? t.segments.slice(1) : t.segments;
  const control = segs.join('/');
  return `rtsp://${t.authority || fallbackAuthority}/${stream}${control ? `/${control}` : ''}`;
}

/**
 * Is a DESCRIBE sent on a redirected connection for the `Location` it was given? Same host and port,
 * same stream, same token. Player-side normalisation (user-info removed, as media3 does; a trailing
 * slash) is tolerated; anything else is another target.
 */
export function sameRedirectTarget(uri: string, location: string): 'same' | 'other-host' | 'other-stream' | 'other-token' {
  const a = readTokenUri(uri);
  const b = readTokenUri(location);
  if (a?.authority && a.authority !== b?.authority) return 'other-host';
  if (a?.segments[0] !== b?.segments[0]) return 'other-stream';
  if (b?.token !== undefined && a?.token !== b.token) return 'other-token';
  return 'same';
}
