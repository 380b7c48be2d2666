import { type CoreService, entryCandidates, type GatewayConfig, type HavenEmitter, type HavenNode, type HealthConfig, HealthMonitor, type HealthProbe, type Locator, type Logger, NodeRegistry, originConfigSchema, type ProbeResult, type Router, type RoutingState, type RoutingStateFollower, type ViewerTokenKey } from '@haven/core';
import { createRtspGateway, type RtspGateway } from '../rtsp/gateway.js';
import { createViewerRouting, streamNames } from './viewer-routing.js';
import { rtspAliveProbe } from '../rtsp/probe.js';
import { probeTokens } from '../auth/probe-token.js';

/** An unchanged load in the state is taken again after this (the health monitor forgets a report after 60 s). */
const LOAD_RETAKE_MS = 30_000;

/** The realm every Haven gateway challenges with (the HA1 in the routing state is for it). */
const REALM = 'Stream Haven';

export interface EntryRoutingDeps {
  /** This node's name, as the origin's registry (and so the routing state) knows it. */
  self: string;
  /** The origin's routing state as this node follows it (`createRoutingStateFollower`). */
  follower: RoutingStateFollower;
  /**
   * This node's token key: signs its redirects and splices; verifies tokens of the entries it accepts
   * (the caller points `acceptFrom` at the routing state's keys).
   */
  tokenKey: () => ViewerTokenKey | undefined;
  /** The local media server's RTSP `host:port` (loopback), spliced to with a PROXY header; read per viewer. */
  mediaRtsp: () => string | undefined;
  /** Addresses spliced to the local MediaMTX untouched (relay children over the VPN): see `RtspGatewayOptions.passthrough`. */
  passthrough?: (ip: string) => boolean;
  /**
   * The local media server has the stream now (checked by the caller). While the state is current, a
   * ready node serves its viewers itself even before the origin's probes have seen it up (its view
   * lags by a probe interval and a poll). Default: only the origin's view counts.
   */
  selfReady?: () => boolean;
  /**
   * The local media server admits new reads of the stream now (cheap, called every 50 ms while a read
   * waits): reads spliced here and relay children wait for it (`RtspGatewayOptions.localReady`).
   * Default: `selfReady`.
   */
  localReady?: () => boolean;
  /**
   * This node's own HTTPS HLS base URL while it serves a CA certificate (its TLS manager says so);
   * undefined: no HTTPS here. Used by `chooseHttps` for this node (its own view, not the report's lag).
   */
  selfHttps?: () => string | undefined;
  /** Where the gateway listens: the node's public RTSP address. */
  rtspListen: { host: string; port: number };
  locator?: () => Locator | undefined;
  /** Gateway settings (a node's config has none). Default: the origin's defaults. */
  gateway?: Partial<GatewayConfig>;
  /** Accept Basic answers (hashed against the HA1), read per viewer (`viewer.allowBasic`). Default true. */
  allowBasic?: () => boolean;
  /** Streams served (the node config's). Default: the config's default streams. */
  streams?: () => readonly string[];
  /** Health settings. Default: the origin's defaults with `freshMs: 0` (each pick reads the state and asks the node). */
  health?: Partial<HealthConfig>;
  /** Failed logins its media server counted per IP. */
  authFailures?: (ip: string) => number;
  events?: HavenEmitter;
  logger?: Logger;
}

export interface EntryRouting {
  registry: NodeRegistry;
  health: HealthMonitor;
  router: Router;
  rtspGateway: RtspGateway;
  /**
   * The viewer check of this entry: the state's HA1 (no clear password on a node). Undefined while no
   * routing state is held (or its HA1 is for another realm): every door then answers 503 before any
   * credential check; there is no placeholder verifier.
   */
  viewer(): { user: string; password: string; ha1: string } | undefined;
  /**
   * The HTTPS door's choice for a viewer at `ip` (Quest: HTTP redirects across hosts work): the same
   * Router as the RTSP gateway, among the nodes that serve HTTPS now (the state's `httpsUrl`, this
   * node's `selfHttps`): the nearest healthy one with room. This node when it is the best, when no other
   * node with HTTPS is usable, or while the state is not current. Undefined: no HTTPS anywhere.
   */
  chooseHttps(ip: string, stream: string): { node: string; hlsBase: string } | undefined;
  /** Bring the registry and loads in line with the held state now (also done on an interval while started). */
  sync(): void;
  /** Lifecycle order: state sync, health, RTSP gateway. */
  list: CoreService[];
}

/**
 * An entry node's RTSP gateway, built from the origin's routing state: the same Router, selector and
 * registry as the origin's, holding the state's healthy nodes with this node as the local one (its
 * `origin` flag means "spliced here"). A viewer is checked with Digest against the state's HA1 (Basic by
 * hashing, when allowed), then spliced to the local MediaMTX with a PROXY header and a token this node
 * signs for itself, or redirected to the nearest healthy node with a token for that node. A viewer that
 * arrives with a token signed for this node (another gateway's redirect) is spliced at once. While the
 * state is not current (origin lost, refused), this node leaves itself out (`entryCandidates`).
 * Health is the origin's state and the node's own answer: a redirect goes only to a node the state
 * says is healthy and that answered an RTSP OPTIONS right before it (`freshMs` 0).
 */
export function createEntryRouting(d: EntryRoutingDeps): EntryRouting {
  const defaults = originConfigSchema.parse({ role: 'origin' });
  const gw: GatewayConfig = { ...defaults.gateway, ...d.gateway };
  const logger = d.logger?.child({ area: 'entry' });
  const registry = new NodeRegistry([], d.events);
  const fromState: HealthProbe = {
    name: 'routing-state',
    probe: async ({ node }): Promise<ProbeResult> => {
      const n = d.follower.state()?.nodes.find((x) => x.name === node.name);
      const up = !!n && n.healthy;
      return { up, ready: up, rttMs: 0, ...(up ? {} : { reason: 'down in the routing state' }) };
    },
  };
  const streams = d.streams ?? streamNames(() => defaults.streams);
  // The origin's view lags (a probe round, a state poll): before each redirect the node itself is
  // asked too, so a node that died a moment ago (refused: down at once) is never a target.
  const alive = rtspAliveProbe({ probeToken: probeTokens(d.tokenKey) });
  const health = new HealthMonitor({
    registry,
    probes: () => [fromState, alive],
    streams,
    config: { ...defaults.health, freshMs: 0, ...d.health },
    ...(d.events ? { events: d.events } : {}),
    ...(logger ? { logger } : {}),
  });
  // An entry never hears of arrivals at other nodes (the origin does): it serves locally the players
  // the origin learned to serve locally, from the routing state, and learns nothing of its own.
  let learnedFor: RoutingState | undefined;
  let learnedSet = new Set<string>();
  const learnedLocal = (ua: string): boolean => {
    const state = d.follower.state();
    if (state !== learnedFor) {
      learnedFor = state;
      learnedSet = new Set((state?.players ?? []).filter((p) => p.served === 'local').map((p) => p.userAgent));
    }
    return learnedSet.has(ua);
  };
  const { learner, router, limiter } = createViewerRouting({
    registry,
    health,
    gateway: () => gw,
    streams,
    learner: { learnedElsewhere: (ua) => learnedLocal(ua) },
    ...(d.locator ? { locator: d.locator } : {}),
    ...(d.authFailures ? { authFailures: d.authFailures } : {}),
    ...(d.events ? { events: d.events } : {}),
    ...(logger ? { logger } : {}),
  });
  const tokenKey = d.tokenKey;
  const viewer = () => {
    const v = d.follower.state()?.viewer;
    if (!v || v.realm !== REALM) return undefined;
    return { user: v.user, password: '', ha1: v.ha1 };
  };
  const rtspGateway = createRtspGateway({
    router,
    learner,
    tokenKey,
    self: () => d.self,
    realm: REALM,
    allowBasic: d.allowBasic ?? (() => true),
    tokenTtlSec: () => gw.tokenTtlSec,
    sameConnectionMs: () => gw.sameConnectionMs,
    host: d.rtspListen.host,
    port: d.rtspListen.port,
    viewer,
    spliceTarget: d.mediaRtsp,
    limits: gw,
    proxyProtocol: true,
    ...(d.passthrough ? { passthrough: d.passthrough } : {}),
    ...((d.localReady ?? d.selfReady) ? { localReady: (d.localReady ?? d.selfReady)! } : {}),
    limiter,
    ...(logger ? { logger } : {}),
  });

  let synced = '';
  /** Each node's load as last taken from the state, and when (see `sync`). */
  const taken = new Map<string, { load: number; at: number }>();
  const sync = () => {
    const state = d.follower.state();
    const fresh = d.follower.health().ok;
    const ready = fresh && !!d.selfReady?.();
    const key = `${state?.version ?? 0}|${fresh}|${ready}`;
    if (key === synced) return;
    synced = key;
    const nodes: HavenNode[] = entryCandidates(state, d.self, fresh).map((c) => (c.node.name === d.self ? { ...c.node, origin: true } : c.node));
    const me = state?.nodes.find((n) => n.name === d.self);
    if (ready && me && !nodes.some((n) => n.name === d.self)) {
      // Ready here though the origin has not probed it up yet: entryCandidates' node, as the local one.
      const [c] = entryCandidates({ ...state!, nodes: [{ ...me, healthy: true }] }, d.self, true);
      if (c) nodes.unshift({ ...c.node, origin: true });
    }
    registry.replace(nodes);
    // A node's load is taken from the state when it changed (a newer report of that node reached the
    // origin), not at every new state version: taking it resets the count of this entry's own redirects
    // since the report, and a state changes for any node's news. Taken again before the monitor's
    // report lifetime runs out (60 s) even when unchanged.
    const now = Date.now();
    for (const n of state?.nodes ?? []) {
      if (n.name === d.self) continue;
      const t = taken.get(n.name);
      if (t && t.load === n.load && now - t.at < LOAD_RETAKE_MS) continue;
      taken.set(n.name, { load: n.load, at: now });
      health.reportReaders(n.name, n.load);
    }
    if (!fresh && state) logger?.warn({ version: state.version }, 'routing state not current: this entry sends no viewer to itself');
  };
  let timer: NodeJS.Timeout | undefined;
  const syncService: CoreService = {
    name: 'entry-state',
    async start() {
      sync();
      timer = setInterval(sync, 250);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
  const chooseHttps = (ip: string, stream: string): { node: string; hlsBase: string } | undefined => {
    const mine = d.selfHttps?.();
    const self = mine ? { node: d.self, hlsBase: mine } : undefined;
    const state = d.follower.state();
    if (!state || !d.follower.health().ok) return self;
    sync();
    const urls = new Map(state.nodes.flatMap((n) => (n.httpsUrl ? [[n.name, n.httpsUrl] as const] : [])));
    for (const { node } of router.plan(ip, stream, router.locate(ip)).ordered) {
      if (node.name === d.self) {
        if (self) return self;
        continue;
      }
      const hlsBase = urls.get(node.name);
      if (hlsBase) return { node: node.name, hlsBase };
    }
    return self;
  };
  return { registry, health, router, rtspGateway, viewer, chooseHttps, sync, list: [syncService, health, rtspGateway] };
}
