import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { upstreamUrl } from './target.js';

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

/** Request headers MediaMTX's HLS server reads; nothing else of the viewer's is passed on. */
const FORWARDED = ['authorization', 'range', 'if-range', 'if-none-match', 'if-modified-since', 'user-agent', 'accept'] as const;
/** MediaMTX's own cookies (session and its cookie probe); other cookies of the viewer stay with us. */
const MEDIA_COOKIES = new Set(['hlsSession', 'cookieCheck']);

/** The headers sent upstream for one viewer request. */
export function upstreamHeaders(req: IncomingMessage, viewerIp: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const k of FORWARDED) {
    const v = req.headers[k];
    if (typeof v === 'string') headers[k] = v;
  }
  const cookie = req.headers.cookie;
  if (typeof cookie === 'string') {
    const kept = cookie
      .split(';')
      .map((c) => c.trim())
      .filter((c) => MEDIA_COOKIES.has(c.slice(0, c.indexOf('=') < 0 ? c.length : c.indexOf('='))));
    if (kept.length > 0) headers.cookie = kept.join('; ');
  }
  headers['x-forwarded-for'] = viewerIp;
  return headers;
}

/**
 * Forward one GET/HEAD to the local MediaMTX HLS server and stream the answer back. The upstream URL is
 * `base` with the given path and query only (the caller checked the request target is in origin form);
 * the viewer's address goes in `X-Forwarded-For` (MediaMTX `hlsTrustedProxies` makes its auth hook and
 * session binding see the viewer).
 */
export function proxyHls(req: IncomingMessage, res: ServerResponse, base: string, viewerIp: string, path: string, search: string, timeoutMs = 15_000): void {
  const target = upstreamUrl(base, path, search);
  const up = request(target, { method: req.method, headers: upstreamHeaders(req, viewerIp), timeout: timeoutMs }, (r: IncomingMessage) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
    res.writeHead(r.statusCode ?? 502, out);
    r.pipe(res);
    r.on('error', () => res.destroy());
  });
  up.on('timeout', () => up.destroy(new Error('timeout')));
  up.on('error', () => {
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('media server unavailable\n');
    } else res.destroy();
  });
  res.on('close', () => up.destroy());
  up.end();
}
