import { createHash } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type CoreService, type Logger, normalizeIp, trimBase, type ViewerTokenKey } from '@haven/core';
import { decodeComponent, guardRequestListener } from '@haven/door';
import { gatewayBudget, type ConnectionBudgetStats, type GatewayBudgetLimits } from '../budget/budget.js';
import { budgetHttpDoor } from '../budget/budget-http.js';
import { listenOrThrow } from '../listen.js';
import { safeEqual, safeEqualExpected, type ViewerCredentials } from '../auth/digest.js';
import { FailureLimiter } from '../budget/rate-limit.js';
import { signViewerToken, TOKEN_PARAM } from '../auth/token.js';
import { originFormTarget } from '../hls/target.js';
import { viewerPageFile, type ViewerPageFile } from './viewer-page.js';

/** Where a viewer is sent: the node's name (tokens are bound to it) and its own HTTPS HLS base URL. */
export interface HttpsTarget {
  node: string;
  /** e.g. `https://203.0.113.7:8888` */
  hlsBase: string;
}

export interface HttpsGatewayOptions {
  host: string;
  /** 443 for the Quest URL; 0 picks a free port. */
  port: number;
  /** One PEM file with the private key and the chain (the node's TLS manager keeps it); re-read when it changes. */
  certFile: string;
  /**
   * The viewer check, read per request: with `ha1` (an entry node's, from the routing state) the Basic
   * password is hashed against it (MD5(user:realm:password)), else compared with `password`.
   * Undefined: nothing to check against now (an entry without a routing state): 503 before any
   * credential is looked at.
   */
  viewer: () => ViewerCredentials | undefined;
  /** Stream names served; read per request. */
  streams: () => readonly string[];
  /** The node a viewer at `ip` should read `stream` from; undefined: none is up (503). */
  choose: (ip: string, stream: string) => HttpsTarget | undefined;
  /** A viewer at `ip` opened a connection (before its TLS handshake): routing may start locating it. */
  prepare?: (ip: string) => void;
  /** Key of the signed viewer tokens; read per viewer. */
  tokenKey: () => ViewerTokenKey | undefined;
  /** Token lifetime, s. Default 60. */
  tokenTtlSec?: () => number;
  maxAuthFailuresPerMinute?: number;
  /** The door's connection budget (per address, per prefix, undecided deadline, global cap); defaults as the gateway config's. */
  limits?: GatewayBudgetLimits;
  /** How often the certificate file is checked for a renewal, ms. Default 2000. */
  certPollMs?: number;
  realm?: string;
  logger?: Logger;
}

export interface HttpsGateway extends CoreService {
  address(): { host: string; port: number } | undefined;
  /** Re-read the certificate file now (also done on change). */
  reloadCertificate(): void;
  /** What the door's connection budget holds and refused. */
  budget(): ConnectionBudgetStats;
}

/** `/<stream>/index.m3u8` (the playlist), or the viewer page's files in the same folder (`/<stream>/` is the page). */
const ROUTE = /^\/([^/?#]+)\/(index\.m3u8|player\.js|hls\.min\.js)?$/;

function basicOf(header: string | undefined): { user: string; pass: string } | undefined {
  const m = header ? /^Basic\s+(\S+)$/i.exec(header) : null;
  if (!m) return undefined;
  const raw = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const c = raw.indexOf(':');
  return c < 0 ? undefined : { user: raw.slice(0, c), pass: raw.slice(c + 1) };
}

/**
 * The HTTPS door of an entry node for players that follow an HTTP redirect across hosts (VRChat on
 * Quest: its HTTP stack is media3's DefaultHttpDataSource, which follows cross-host 3xx; its RTSP stack
 * cannot). `GET /<stream>/index.m3u8` with the viewer password (Basic) answers 302 to the chosen node's
 * own HTTPS playlist with a short-lived signed token in place of the password (bound to the viewer's
 * address, the stream, the node). Next to it, behind the same viewer check, the stream's viewer page
 * for browsers (`/<stream>/`, hls.js tuned for low latency, see viewer-page.ts). Nothing else is
 * served: HLS media requests go to the node that serves them and never pass here.
 */
export function createHttpsGateway(o: HttpsGatewayOptions): HttpsGateway {
  const limiter = new FailureLimiter({ maxFailures: o.maxAuthFailuresPerMinute ?? 10 });
  const realm = o.realm ?? 'Stream Haven';
  const sockets = new Set<Socket>();
  const budget = gatewayBudget(o.limits ?? {});
  let server: Server | undefined;
  let bound: { host: string; port: number } | undefined;
  let loadedText = '';

  const text = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(`${body}\n`);
  };

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const ip = normalizeIp(req.socket.remoteAddress);
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
    // Origin form only (`//[/`, absolute form, dot segments: 400); a bad %-escape is a 400 too.
    const at = originFormTarget(req.url);
    if (!at) return text(res, 400, 'bad request: expected a path such as /<stream>/index.m3u8');
    const m = ROUTE.exec(at.path);
    const stream = m ? decodeComponent(m[1] as string) : undefined;
    if (stream === undefined || !o.streams().includes(stream)) return text(res, 404, 'not found: the entry serves /<stream>/index.m3u8 and the viewer page /<stream>/ only');
    const v = o.viewer();
    if (!v) return text(res, 503, 'this entry has no routing state yet; try again shortly', { 'retry-after': '5' });
    if (limiter.blocked(ip)) return text(res, 429, 'too many failed logins from this address; wait a minute');
    const cred = basicOf(req.headers.authorization);
    const passOk = (pass: string) =>
      v.ha1 !== undefined ? safeEqual(createHash('md5').update(`${v.user}:${realm}:${pass}`).digest('hex'), v.ha1) : safeEqualExpected(pass, v.password);
    if (!cred || cred.user !== v.user || !passOk(cred.pass)) {
      if (cred) limiter.fail(ip);
      return text(res, 401, 'viewer password required', { 'www-authenticate': `Basic realm="${realm}"` });
    }
    const file = m?.[2] ?? '';
    if (file !== 'index.m3u8') return servePage(res, file as ViewerPageFile, ip, stream);
    const key = o.tokenKey();
    const target = o.choose(ip, stream);
    if (!key || !target) return text(res, 503, 'no node is serving this stream right now; try again shortly', { 'retry-after': '5' });
    const token = signViewerToken(key, { ip, stream, node: target.node }, o.tokenTtlSec?.() ?? 60);
    const location = `${trimBase(target.hlsBase)}/${encodeURIComponent(stream)}/index.m3u8?${TOKEN_PARAM}=${encodeURIComponent(token)}`;
    o.logger?.debug({ ip, stream, node: target.node }, 'https entry: redirect');
    res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': '0' });
    res.end();
  }

  /** A file of the viewer page; the page itself names the node its playlist goes to in its policy. */
  function servePage(res: ServerResponse, file: ViewerPageFile, ip: string, stream: string): void {
    let mediaOrigin = '';
    if (file === '') {
      const target = o.choose(ip, stream);
      if (!target) return text(res, 503, 'no node is serving this stream right now; try again shortly', { 'retry-after': '5' });
      mediaOrigin = new URL(target.hlsBase).origin;
    }
    const { body, headers } = viewerPageFile(file, stream, mediaOrigin);
    res.writeHead(200, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  }

  function loadCert(): void {
    const pem = readFileSync(o.certFile, 'utf8');
    if (pem === loadedText) return;
    server?.setSecureContext({ key: pem, cert: pem });
    loadedText = pem;
    o.logger?.info({ file: o.certFile }, 'https entry: certificate loaded');
  }

  return {
    name: 'https-gateway',
    address: () => bound,
    budget: () => budget.stats(),
    reloadCertificate: () => {
      try {
        loadCert();
      } catch (err) {
        o.logger?.warn({ err, file: o.certFile }, 'https entry: certificate reload failed; keeping the previous one');
      }
    },
    async start() {
      if (server) return;
      const pem = readFileSync(o.certFile, 'utf8');
      // Node's own 120 s handshake timeout would let a silent sender hold a slot for two minutes.
      const srv = createServer({ key: pem, cert: pem, minVersion: 'TLSv1.2', handshakeTimeout: 5_000 }, guardRequestListener({ door: 'https entry', logger: o.logger }, handle));
      loadedText = pem;
      srv.headersTimeout = 10_000;
      srv.requestTimeout = 15_000;
      srv.keepAliveTimeout = 5_000;
      // Admitted connections only make routing locate the viewer (a refused one asks the origin nothing).
      budgetHttpDoor(srv, budget, { sockets, guard: { door: 'https entry', logger: o.logger }, ...(o.prepare ? { onAdmit: o.prepare } : {}) });
      const sweep = setInterval(() => budget.sweep(), 60_000);
      sweep.unref();
      srv.once('close', () => clearInterval(sweep));
      bound = await listenOrThrow(srv, { host: o.host, port: o.port, backlog: 1024 }, 'HTTPS entry', 'the https gateway port');
      server = srv;
      watchFile(o.certFile, { interval: o.certPollMs ?? 2_000 }, () => this.reloadCertificate());
    },
    async stop() {
      const srv = server;
      server = undefined;
      unwatchFile(o.certFile);
      if (!srv) return;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}
