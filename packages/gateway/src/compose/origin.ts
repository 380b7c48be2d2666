import { type CoreService, type HavenEmitter, type HavenNode, type HavenSecrets, type HealthConfig, HealthMonitor, type HealthProbe, healthSchemaDefaults, type Locator, type Logger, type MediaEndpoints, type NodeConfig, NodeRegistry, nodesFromConfig, type OriginConfig, originGatewayBind, placeOf, type Router, type ViewerTokenKey } from '@haven/core';
import { createHlsGateway, type HlsGateway } from '../hls/gateway.js';
import { type RtspHealthProbe, rtspProbe } from '../rtsp/probe.js';
import { createRtspGateway, type RtspGateway } from '../rtsp/gateway.js';
import { createViewerRouting, streamNames } from './viewer-routing.js';
import { signViewerToken } from '../auth/token.js';
import { probeTokens } from '../auth/probe-token.js';

export interface OriginRoutingDeps {
  config: OriginConfig;
  /** The Haven's secrets, read per viewer (rotation applies at once). */
  secrets: () => Pick<HavenSecrets, 'viewerPassword'>;
  /** The origin's own token key (signs redirects, splices and probes); absent: no tokens (the password is sent). */
  tokenKey?: () => ViewerTokenKey | undefined;
  /** Where what the gateway learns about players is kept (a 0600 JSON file); absent: memory only. */
  learnFile?: string;
  locator?: () => Locator | undefined;
  /** Extra probes from plugins, read at every round; the RTSP probe is always first. */
  probes?: () => readonly HealthProbe[];
  /** The local media server's endpoints (`rtsp` to splice to, `hls` to proxy); read per viewer. */
  media?: () => MediaEndpoints | undefined;
  events?: HavenEmitter;
  logger?: Logger;
  /** Listen here instead of `public.bind` + `public.rtspPort` (tests: port 0). */
  rtspListen?: { host: string; port: number };
  /** Listen here instead of `public.bind` + `public.hlsPort`; `false`: no HLS gateway. */
  hlsListen?: { host: string; port: number } | false;
  /** Failed logins the media server counted per IP (viewers spliced to it authenticate there). */
  authFailures?: (ip: string) => number;
  /** Send PROXY protocol v1 on spliced connections. Default true. */
  proxyProtocol?: boolean;
}

export interface RoutingStack {
  registry: NodeRegistry;
  health: HealthMonitor;
  router: Router;
  rtspGateway: RtspGateway;
  hlsGateway?: HlsGateway;
  /** The origin's RTSP health probe (its kept connections' counts: `stats()`). */
  probe: RtspHealthProbe;
  /** Lifecycle order: health, RTSP gateway, HLS gateway. */
  list: CoreService[];
}

/** Registry, health monitor, router and both gateways of an origin, wired from its config. */
export function createOriginRouting(d: OriginRoutingDeps): RoutingStack {
  const { config } = d;
  const streams = streamNames(() => config.streams);
  const viewer = () => ({ user: config.viewer.user, password: d.secrets().viewerPassword });
  const logger = d.logger?.child({ area: 'routing' });
  const registry = new NodeRegistry(nodesFromConfig(config), d.events);
  const tokenKey = (): ViewerTokenKey | undefined => d.tokenKey?.();
  // Probes ask nodes with a token, never the viewer password, unless a node refuses the token.
  const probe = rtspProbe({
    credentials: viewer,
    token: (claims) => {
      const key = tokenKey();
      return key ? signViewerToken(key, claims, 30) : undefined;
    },
    probeToken: probeTokens(tokenKey),
  });
  const health = new HealthMonitor({
    registry,
    probes: () => [probe, ...(d.probes?.() ?? [])],
    streams,
    config: config.health,
    ...(d.events ? { events: d.events } : {}),
    ...(logger ? { logger } : {}),
  });
  const { learner, router, limiter } = createViewerRouting({
    registry,
    health,
    gateway: () => config.gateway,
    streams,
    learner: {
      ...(d.learnFile ? { file: d.learnFile } : {}),
      onError: (err) => logger?.warn({ err: (err as Error).message }, 'what was learned about players could not be read or written'),
    },
    ...(d.locator ? { locator: d.locator } : {}),
    ...(d.authFailures ? { authFailures: d.authFailures } : {}),
    ...(d.events ? { events: d.events } : {}),
    ...(logger ? { logger } : {}),
  });
  const rtspGateway = createRtspGateway({
    router,
    learner,
    tokenKey,
    allowBasic: () => config.viewer.allowBasic,
    tokenTtlSec: () => config.gateway.tokenTtlSec,
    sameConnectionMs: () => config.gateway.sameConnectionMs,
    host: d.rtspListen?.host ?? originGatewayBind(config),
    port: d.rtspListen?.port ?? config.public.rtspPort,
    viewer,
    spliceTarget: () => d.media?.()?.rtsp,
    limits: config.gateway,
    proxyProtocol: d.proxyProtocol ?? true,
    limiter,
    ...(logger ? { logger } : {}),
  });
  const list: CoreService[] = [health, rtspGateway];
  const stack: RoutingStack = { registry, health, router, rtspGateway, probe, list };
  if (d.hlsListen !== false) {
    stack.hlsGateway = createHlsGateway({
      router,
      host: d.hlsListen?.host ?? originGatewayBind(config),
      port: d.hlsListen?.port ?? config.public.hlsPort,
      viewer,
      mode: () => config.gateway.hlsMode,
      localHls: () => d.media?.()?.hls,
      limits: config.gateway,
      limiter,
      ...(logger ? { logger } : {}),
    });
    list.push(stack.hlsGateway);
  }
  return stack;
}

export interface NodeRoutingDeps {
  config: NodeConfig;
  secrets: () => Pick<HavenSecrets, 'viewerPassword'>;
  probes?: () => readonly HealthProbe[];
  events?: HavenEmitter;
  logger?: Logger;
  /** Health settings (a node's config has none). Default: the origin's defaults. */
  health?: Partial<HealthConfig>;
  /**
   * The node's token key: its probe of its own address then carries a probe credential for itself, so
   * its gateway keeps that connection as a probe's and never counts it as a viewer. Default: none.
   */
  tokenKey?: () => ViewerTokenKey | undefined;
}

/** A node's own view: a registry holding itself and a monitor checking its own public RTSP address. */
export function createNodeRouting(d: NodeRoutingDeps): { registry: NodeRegistry; health: HealthMonitor; list: CoreService[] } {
  const c = d.config;
  const host = c.public.host.includes(':') ? `[${c.public.host}]` : c.public.host;
  const self: HavenNode = {
    name: c.name,
    location: placeOf(c, `node "${c.name}"`),
    rtspUrl: `rtsp://${host}:${c.public.rtspPort}`,
    hlsUrl: `http://${host}:${c.public.hlsPort}`,
    capacity: c.capacity,
  };
  if (c.region !== undefined) self.region = c.region;
  const registry = new NodeRegistry([self], d.events);
  const probe = rtspProbe({
    credentials: () => ({ user: c.viewer.user, password: d.secrets().viewerPassword }),
    ...(d.tokenKey ? { probeToken: probeTokens(d.tokenKey) } : {}),
  });
  const health = new HealthMonitor({
    registry,
    probes: () => [probe, ...(d.probes?.() ?? [])],
    streams: streamNames(() => c.streams),
    config: { ...healthSchemaDefaults(), ...d.health },
    ...(d.events ? { events: d.events } : {}),
    ...(d.logger ? { logger: d.logger.child({ area: 'health' }) } : {}),
  });
  return { registry, health, list: [health] };
}
