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

function authority(uri: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]*)/i.exec(uri);
  return m ? (m[1] as string).toLowerCase() : undefined;
}

function queryOf(uri: string): URLSearchParams {
  const q = uri.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : uri.slice(q + 1).replace(/#.*$/, ''));
}

/**
 * Is a DESCRIBE sent on a redirected connection for the `Location` it was given? Same host and port,
 * same stream, same query (the token). Player-side normalisation (user-info removed, as media3 does)
 * is tolerated; anything else is another target.
 */
export function sameRedirectTarget(uri: string, location: string): 'same' | 'other-host' | 'other-stream' | 'other-token' {
  const a = authority(uri);
  if (a !== undefined && a !== authority(location)) return 'other-host';
  if (streamOfUri(uri)?.stream !== streamOfUri(location)?.stream) return 'other-stream';
  const want = queryOf(location).get('token');
  if (want !== null && queryOf(uri).get('token') !== want) return 'other-token';
  return 'same';
}
