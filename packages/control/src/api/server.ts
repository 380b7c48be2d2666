import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HavenError, type HavenEvents, logStats, normalizeIp } from '@haven/core';
import { decodeComponent, guardRequestListener, parseRequestTarget } from '@haven/door';
import type { ApiContext, RouteDef } from './context.js';
import { DecisionLog } from './decisions.js';
import { ApiError, badRequest, bearerMatches, nodeOfBearer, readJson, sendError, sendJson, unauthorized } from './http.js';
import { HostGuard } from './host-guard.js';
import { createMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { apiRoutes } from './routes.js';
import { LiveHub } from './sse.js';
import type { ControlApi, ControlApiDeps, ControlApiOptions } from './types.js';
import { statusView, type ReportEntry } from './views.js';

/** Default address of the control API and status page: loopback only. */
export const DEFAULT_API_LISTEN = '127.0.0.1:8880';

/** Events after which the status page gets a fresh snapshot. */
const LIVE_EVENTS: Array<keyof HavenEvents> = [
  'viewer:routed',
  'node:up',
  'node:down',
  'node:added',
  'node:removed',
  'health:changed',
  'health:probed',
  'publisher:up',
  'publisher:down',
  'config:applied',
];

function configError(message: string): HavenError {
  return new HavenError(message, { code: 'CONFIG_INVALID', plugin: 'api' });
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw configError(`listen: expected host:port (port 0-65535), got "${listen}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

interface Compiled {
  route: RouteDef;
  match(path: string): Record<string, string> | undefined;
}

function compile(route: RouteDef): Compiled {
  const names: string[] = [];
  const pattern = route.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:([A-Za-z]+)/g, (_, n: string) => {
    names.push(n);
    return '([^/]+)';
  });
  const re = new RegExp(`^${pattern}$`);
  return {
    route,
    match(path) {
      const m = re.exec(path);
      if (!m) return undefined;
      const params: Record<string, string> = {};
      names.forEach((n, i) => {
        params[n] = decodeComponent(m[i + 1]!);
      });
      return params;
    },
  };
}

const HAVEN_STATUS: Record<string, number> = {
  NODE_DUPLICATE: 409,
  NODE_UNKNOWN: 404,
  REGION_UNKNOWN: 400,
  CONFIG_INVALID: 400,
  CONFIG_BUSY: 409,
  NOT_STARTED: 503,
};

/**
 * The origin's control API, Prometheus metrics and live status page on one HTTP listener
 * (loopback by default). State changes and secrets need the Bearer token.
 */
export function createControlApi(deps: ControlApiDeps, options: ControlApiOptions): ControlApi {
  const listen = parseListen(options.listen ?? DEFAULT_API_LISTEN);
  const report = options.reportListen === undefined ? undefined : parseListen(options.reportListen);
  if (typeof options.token === 'string' && options.token.length < 16) throw configError('token: expected at least 16 characters');
  if (typeof options.token !== 'string' && typeof options.token !== 'function') throw configError('token: expected a string or a function');
  const logger = options.logger.child({ area: 'api' });
  const hosts = new HostGuard([listen.host, ...(report ? [report.host] : [])], options.allowedHosts ?? []);
  const reports = new Map<string, ReportEntry>();
  const reportTtlMs = options.reportTtlMs ?? 30_000;
  const viewCtx = () => ({ reports, now: Date.now(), reportTtlMs });

  const status = async () => statusView(await deps.status(), viewCtx());
  const decisions = new DecisionLog(options.recentDecisions ?? 500);
  const viewerWindowSec = options.viewerWindowSec ?? 3600;
  const metrics = createMetrics({
    processMetrics: options.processMetrics ?? true,
    viewersByNode: async () => new Map((await status()).nodes.map((n) => [n.name, n.viewers])),
    vrchatVerdicts: async () => (await status()).streams.flatMap((s) => (s.vrchat ? [s.vrchat] : [])),
    players: async () => (await status()).players,
    log: () => logStats(options.logger),
  });
  let doc: Record<string, unknown> | undefined;
  const api: ApiContext = {
    deps,
    logger,
    decisions,
    reports,
    metrics,
    hub: undefined as unknown as LiveHub,
    tokens: { control: options.token, ...(options.nodeReportToken ? { report: options.nodeReportToken } : {}) },
    users: { viewer: options.viewerUser ?? 'viewer', publisher: options.publisherUser ?? 'publisher' },
    maxBodyBytes: options.maxBodyBytes ?? 65_536,
    viewerWindowSec,
    reportTtlMs,
    status,
    snapshot: async () => ({ status: await status(), decisions: decisions.recent(25), viewers: decisions.viewers(viewerWindowSec) }),
    openapi: () => (doc ??= openApiDocument(routes, { title: 'Stream Haven control API', version: '1.0.0' })),
  };
  api.hub = new LiveHub({
    maxClients: options.maxEventClients ?? 32,
    debounceMs: options.liveDebounceMs ?? 250,
    snapshot: api.snapshot,
    logger,
  });
  const routes = apiRoutes(api);
  const compiled = routes.map(compile);
  const reportRoutes = compiled.filter((c) => c.route.auth === 'report');

  async function dispatch(table: Compiled[], req: IncomingMessage, res: ServerResponse, onReportListener: boolean): Promise<void> {
    hosts.check(req);
    const url = parseRequestTarget(req.url);
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    let found: { c: Compiled; params: Record<string, string> } | undefined;
    const allowed: string[] = [];
    for (const c of table) {
      const params = c.match(url.pathname);
      if (!params) continue;
      allowed.push(c.route.method);
      if (c.route.method === method) found = { c, params };
    }
    if (!found) {
      if (allowed.length > 0) throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`, undefined, { allow: allowed.join(', ') });
      throw new ApiError(404, 'NOT_FOUND', `no such endpoint: ${req.method} ${url.pathname}`);
    }
    const { route } = found.c;
    const tokenNeeded = route.auth === 'token' || (route.auth === 'public' && !onReportListener && !!options.readsNeedToken?.(normalizeIp(req.socket.remoteAddress)));
    if (tokenNeeded && !bearerMatches(req, [api.tokens.control])) throw unauthorized();
    let node: string | undefined;
    if (route.auth === 'report') {
      const ip = normalizeIp(req.socket.remoteAddress);
      node = onReportListener ? options.nodeByAddress?.(ip) : undefined;
      // Else the node's own credential names it (a removed node's is no longer any node's).
      node ??= nodeOfBearer(req, deps.nodeOfCredential);
      if (!node && !bearerMatches(req, [api.tokens.control, api.tokens.report])) throw unauthorized();
    }
    let query: unknown;
    if (route.query) {
      const q = route.query.safeParse(Object.fromEntries(url.searchParams));
      if (!q.success) throw badRequest(q.error, 'query');
      query = q.data;
    }
    let body: unknown;
    if (route.body) {
      const b = route.body.safeParse(await readJson(req, api.maxBodyBytes));
      if (!b.success) throw badRequest(b.error, 'body');
      body = b.data;
    }
    const result = await route.handler({ req, res, params: found.params, body, query, ...(node ? { node } : {}) });
    if (res.headersSent || res.writableEnded) return;
    if (!route.response) return sendJson(res, route.status ?? 200, result);
    const out = route.response.safeParse(result);
    if (!out.success) {
      logger.error({ route: route.path, issues: out.error.issues }, 'control API: an answer did not match its schema');
      throw new ApiError(500, 'INTERNAL', 'the Haven gave an answer the API could not describe; see the log');
    }
    sendJson(res, route.status ?? 200, out.data);
  }

  /** The API's own errors keep their status and code; anything else goes to the door guard (logged, 500). */
  function handler(table: Compiled[], onReportListener: boolean) {
    const door = onReportListener ? 'node report listener' : 'control API';
    return guardRequestListener(
      {
        door,
        logger,
        answer: (res, status, message) => sendError(res, new ApiError(status, status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', message)),
      },
      async (req: IncomingMessage, res: ServerResponse) => {
        try {
          await dispatch(table, req, res, onReportListener);
        } catch (err) {
          if (!(err instanceof ApiError || err instanceof HavenError)) throw err;
          if (res.headersSent) return void res.destroy();
          if (err instanceof ApiError) return sendError(res, err);
          const status = HAVEN_STATUS[err.code] ?? 500;
          if (status >= 500) logger.error({ err }, 'control API call failed');
          return sendError(res, new ApiError(status, err.code, err.message));
        }
      },
    );
  }

  function makeServer(table: Compiled[], onReportListener = false): Server {
    const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, handler(table, onReportListener));
    server.maxConnections = 512;
    return server;
  }

  let main: Server | undefined;
  let side: Server | undefined;
  let detach: (() => void) | undefined;
  let base = '';

  const onLive = () => api.hub.notify();
  const onRouted = (e: HavenEvents['viewer:routed'][0]) => {
    let where;
    try {
      where = deps.locate?.(e.ip);
    } catch {
      where = undefined;
    }
    decisions.add(e, where);
  };
  const onRemoved = (e: HavenEvents['node:removed'][0]) => reports.delete(e.name);

  async function listenOn(server: Server, at: { host: string; port: number }): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  async function close(server: Server | undefined): Promise<void> {
    if (!server?.listening) return;
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await done;
  }

  async function startReports(at: { host: string; port: number }): Promise<number> {
    if (side?.listening) return (side.address() as AddressInfo).port;
    hosts.add(at.host);
    side = makeServer(reportRoutes, true);
    return listenOn(side, at);
  }

  return {
    registry: metrics.registry,
    async listenReports(at: string) {
      if (!main) throw new HavenError('the control API is not started', { code: 'NOT_STARTED', plugin: 'api' });
      const port = await startReports(parseListen(at));
      logger.info({ reportPort: port }, 'node reports listening');
      return port;
    },
    async start() {
      if (main) throw new HavenError('the control API is already started', { code: 'START_FAILED', plugin: 'api' });
      api.hub.open();
      const events = deps.events;
      const unmetrics = metrics.attach(events);
      events.on('viewer:routed', onRouted);
      events.on('node:removed', onRemoved);
      for (const name of LIVE_EVENTS) events.on(name, onLive);
      detach = () => {
        unmetrics();
        events.off('viewer:routed', onRouted);
        events.off('node:removed', onRemoved);
        for (const name of LIVE_EVENTS) events.off(name, onLive);
      };
      try {
        metrics.seed((await deps.status()).nodes.map((n) => ({ name: n.node.name, health: n.health })));
      } catch (err) {
        logger.warn({ err }, 'control API: status not available yet; node health metrics start with the first event');
      }
      main = makeServer(compiled);
      try {
        const port = await listenOn(main, listen);
        const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host;
        base = `http://${host}:${port}`;
        const reportPort = report ? await startReports(report) : undefined;
        logger.info({ url: base, reportPort }, 'control API listening');
        return reportPort === undefined ? { port } : { port, reportPort };
      } catch (err) {
        await this.stop();
        throw new HavenError(`control API could not listen on ${options.listen ?? DEFAULT_API_LISTEN}: ${(err as Error).message}`, {
          code: 'START_FAILED',
          plugin: 'api',
          cause: err,
        });
      }
    },
    async stop() {
      detach?.();
      detach = undefined;
      api.hub.close();
      const servers = [main, side];
      main = side = undefined;
      await Promise.all(servers.map(close));
    },
    url() {
      return base;
    },
  };
}
