import { request, type IncomingMessage, type ServerResponse } from 'node:http';

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

/**
 * Forward one GET/HEAD to the local MediaMTX HLS server and stream the answer back. The viewer's
 * address goes in `X-Forwarded-For` (MediaMTX `hlsTrustedProxies` makes its auth hook and session
 * binding see the viewer). `pathAndQuery` replaces the request's own when given.
 */
export function proxyHls(req: IncomingMessage, res: ServerResponse, base: string, viewerIp: string, pathAndQuery?: string, timeoutMs = 15_000): void {
  const target = new URL(pathAndQuery ?? req.url ?? '/', base);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
  headers['x-forwarded-for'] = viewerIp;
  const up = request(target, { method: req.method, headers, timeout: timeoutMs }, (r: IncomingMessage) => {
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
