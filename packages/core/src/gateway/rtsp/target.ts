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

/** Rebuild a request without its Authorization header (handed to MediaMTX, which challenges again with its own scheme). */
export function withoutAuthorization(req: { method: string; uri: string; version: string; headers: Array<[string, string]>; body: Buffer }): Buffer {
  let head = `${req.method} ${req.uri} ${req.version}\r\n`;
  for (const [k, v] of req.headers) if (k.toLowerCase() !== 'authorization') head += `${k}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), req.body]);
}
