import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type CoreService, type GatewayConfig, type HavenNode, type Logger, normalizeIp, type Router, trimBase } from '@haven/core';
import { guardRequestListener } from '@haven/door';
import { gatewayBudget, type GatewayBudgetLimits } from '../budget/budget.js';
import { budgetHttpDoor } from '../budget/budget-http.js';
import { listenOrThrow } from '../listen.js';
import { safeEqualExpected, type ViewerCredentials } from '../auth/digest.js';
import { FailureLimiter } from '../budget/rate-limit.js';
import { fetchNodePlaylist } from './playlist.js';
import { proxyHls } from './proxy.js';
import { originFormTarget } from './target.js';

export interface HlsGatewayOptions {
  router: Router;
  host: string;
  /** 0 picks a free port (see `address()`). */
  port: number;
  /** Undefined: nothing to check a viewer against now: 503 before any credential check. */
  viewer: () => ViewerCredentials | undefined;
  /** `playlist` (default): the node's playlist with absolute URIs; `redirect`: an HTTP 302 to the node. Read per request. */
  mode: () => GatewayConfig['hlsMode'];
  /** Local MediaMTX HLS base URL, proxied when the origin serves the viewer; read per request. */
  localHls: () => string | undefined;
  limits: Pick<GatewayConfig, 'maxAuthFailuresPerMinute' | 'maxConnections' | 'firstRequestTimeoutMs' | 'maxHeaderBytes'> & GatewayBudgetLimits;
  /** Deadline for reading a node's playlist (a node's first HLS viewer waits for its first segment), ms. Default 10000. */
  playlistTimeoutMs?: number;
  /** Share the RTSP gateway's failure counter so both doors count together. */
  limiter?: FailureLimiter;
  realm?: string;
  logger?: Logger;
}

export interface HlsGateway extends CoreService {
  address(): { host: string; port: number } | undefined;
}

function credentialsOf(header: string | undefined): { user: string; pass: string } | undefined {
  if (!header) return undefined;
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  const raw = basic ? Buffer.from(basic[1] as string, 'base64').toString('utf8') : /^Bearer\s+([^:\s]+:\S+)$/i.exec(header)?.[1];
  if (raw === undefined) return undefined;
  const c = raw.indexOf(':');
  return c < 0 ? undefined : { user: raw.slice(0, c), pass: raw.slice(c + 1) };
}

function withUserinfo(url: string, c: ViewerCredentials): string {
  const u = new URL(url);
  u.username = encodeURIComponent(c.user);
  u.password = encodeURIComponent(c.password);
  return u.toString();
}

/**
 * The origin's HLS entry point. `/<stream>/index.m3u8` (also `/<stream>/` and `/<stream>`) is
 * authenticated (Basic, as MediaMTX does) and routed: a relay node's own playlist with absolute URIs
 * (players move without any 3xx support), or a 302 to the node, or, when the origin serves, the
 * local MediaMTX proxied. Other paths of a known stream (the origin's media playlists and segments,
 * guarded by MediaMTX's session id) are proxied as they are.
 */
export function createHlsGateway(o: HlsGatewayOptions): HlsGateway {
  const limiter = o.limiter ?? new FailureLimiter({ maxFailures: o.limits.maxAuthFailuresPerMinute });
  const realm = o.realm ?? 'Stream Haven';
  const sockets = new Set<Socket>();
  // The same budget as the RTSP gateway (its own count: HLS players keep a few connections).
  const budget = gatewayBudget(o.limits);
  let server: Server | undefined;
  let bound: { host: string; port: number } | undefined;

  const text = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(`${body}\n`);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ip = normalizeIp(req.socket.remoteAddress);
    const t0 = performance.now();
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
    // Origin form only: an absolute-form or `//host` target never decides where the gateway fetches.
    const target = originFormTarget(req.url);
    if (!target) {
      o.router.refused(ip, 'bad-request');
      return text(res, 400, 'bad request: expected a path such as /<stream>/index.m3u8');
    }
    const url = new URL(`http://gateway${target.path}${target.search}`);
    const m = /^\/([^/]+)(\/.*)?$/.exec(target.path);
    const stream = m?.[1] ?? '';
    const rest = m?.[2] ?? '';
    if (!o.router.hasStream(stream)) {
      o.router.refused(ip, 'not-found');
      return text(res, 404, 'not found');
    }
    const entry = rest === '' || rest === '/' || rest === '/index.m3u8';
    const local = o.localHls();
    if (!entry) {
      if (!local) return text(res, 404, 'not found');
      return proxyHls(req, res, local, ip, target.path, target.search);
    }
    const viewer = o.viewer();
    if (!viewer) {
      o.router.refused(ip, 'no-node');
      return text(res, 503, 'this gateway holds no viewer check yet; try again shortly', { 'retry-after': '5' });
    }
    if (limiter.blocked(ip)) {
      o.router.refused(ip, 'rate-limited');
      return text(res, 403, 'too many failed logins; try again later');
    }
    const creds = credentialsOf(req.headers.authorization);
    if (!creds || !(safeEqualExpected(creds.user, viewer.user) && safeEqualExpected(creds.pass, viewer.password))) {
      if (creds) o.router.refused(ip, limiter.fail(ip) ? 'rate-limited' : 'auth');
      return text(res, 401, 'authentication required', { 'www-authenticate': `Basic realm="${realm}"` });
    }

    const mode = o.mode();
    let playlist: string | undefined;
    const verify =
      mode === 'playlist'
        ? async (node: HavenNode) => {
            if (!node.hlsUrl) return false;
            const timeoutMs = o.playlistTimeoutMs ?? 10_000;
            playlist = await fetchNodePlaylist({ node, stream, query: url.searchParams, authorization: req.headers.authorization ?? '', viewerIp: ip, timeoutMs });
            return playlist !== undefined;
          }
        : async (node: HavenNode) => !!node.hlsUrl;
    const decision = await o.router.decide(ip, stream, verify);
    if (!decision) {
      o.router.refused(ip, 'no-node');
      return text(res, 503, 'no node can serve this stream now');
    }
    const decisionMs = Math.round((performance.now() - t0) * 1000) / 1000;
    const ev = {
      ip,
      stream,
      node: decision.node.name,
      reason: decision.reason,
      decisionMs,
      ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
      ...(decision.location?.country ? { country: decision.location.country } : {}),
      ...(decision.location?.city ? { city: decision.location.city } : {}),
      ...(decision.distanceKm !== undefined ? { distanceKm: Math.round(decision.distanceKm * 10) / 10 } : {}),
    };
    if (decision.node.origin) {
      if (!local) {
        o.router.refused(ip, 'no-node');
        return text(res, 503, 'no media server on this origin');
      }
      const q = new URLSearchParams(url.searchParams);
      q.set('cookieCheck', '1');
      o.router.routed({ ...ev, mode: 'hls-playlist' });
      return proxyHls(req, res, local, ip, `/${stream}/index.m3u8`, `?${q.toString()}`);
    }
    if (mode === 'redirect') {
      // The player must log in at the node itself; HTTP clients do not carry credentials to another host.
      const location = withUserinfo(`${trimBase(decision.node.hlsUrl ?? '')}/${stream}/index.m3u8${url.search}`, viewer);
      res.writeHead(302, { location, 'cache-control': 'no-store' });
      res.end();
      o.router.routed({ ...ev, mode: 'hls-redirect' });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'no-store' });
    res.end(playlist);
    o.router.routed({ ...ev, mode: 'hls-playlist' });
  }

  return {
    name: 'hls-gateway',
    async start() {
      if (server) return;
      const srv = createServer(
        { maxHeaderSize: o.limits.maxHeaderBytes, requestTimeout: 30_000, headersTimeout: o.limits.firstRequestTimeoutMs, keepAliveTimeout: 5000 },
        guardRequestListener({ door: 'hls gateway', logger: o.logger }, handle),
      );
      budgetHttpDoor(srv, budget, { sockets, guard: { door: 'hls gateway', logger: o.logger } });
      const sweep = setInterval(() => budget.sweep(), 60_000);
      sweep.unref();
      srv.once('close', () => clearInterval(sweep));
      bound = await listenOrThrow(srv, { host: o.host, port: o.port }, 'HLS gateway', 'public.hlsPort / public.bind');
      server = srv;
      o.logger?.info({ address: bound }, 'hls gateway listening');
    },
    async stop() {
      const srv = server;
      server = undefined;
      if (!srv) return;
      const closed = new Promise<void>((r) => srv.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    address: () => bound,
  };
}
