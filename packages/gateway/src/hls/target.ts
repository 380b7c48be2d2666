/**
 * The path and query of an HTTP request target, only when it is in origin form (`/path?query`,
 * RFC 9112 §3.2.1). Absolute form (`http://host/x`), authority form, asterisk form and a path that
 * starts with `//` (which URL parsers read as a host) are refused: the gateway only ever fetches from
 * its own media server, so nothing a viewer sends may name another host.
 */
export function originFormTarget(target: string | undefined): { path: string; search: string } | undefined {
  if (target === undefined || !target.startsWith('/') || target.startsWith('//')) return undefined;
  if (/[\s\\#]/.test(target)) return undefined;
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const search = q < 0 ? '' : target.slice(q);
  // No dot segments either: `/live/../../x` must not walk out of the stream's folder.
  if (path.split('/').some((s) => s === '..' || s === '.' || /^%2e(%2e)?$/i.test(s) || s === '.%2e' || s === '%2e.')) return undefined;
  return { path, search };
}

/** `base` (scheme, host, port) with exactly this path and query: nothing from the viewer decides the host. */
export function upstreamUrl(base: string, path: string, search = ''): URL {
  const u = new URL(base);
  const prefix = u.pathname.replace(/\/+$/, '');
  u.pathname = `${prefix}${path}`;
  u.search = search;
  u.hash = '';
  u.username = '';
  u.password = '';
  return u;
}
