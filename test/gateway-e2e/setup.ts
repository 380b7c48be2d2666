import { createRoutingStateFollower, createRoutingStatePublisher, digestHa1, HavenEmitter, originConfigSchema, type HavenEvents, type ViewerTokenKey } from '@haven/core';
import { createEntryRouting, createOriginRouting, type EntryRouting, type RoutingStack } from '@haven/gateway';
import { AuthHookServer, SubnetMatcher, type AuthDecision, type AuthPolicy } from '@haven/plugin-mediamtx';
import { freePort, stopAll, waitFor } from '../helpers/process.js';
import { GATEWAY_KEY, verifierKey } from '../helpers/token-key.js';
import { mtxPathReady, mtxReaders, PUBLISHER, RELAY, startMediamtx, startPublisher, tableLocator, VIEWER, type Mtx } from '../gateway/helpers.js';

export const SECRETS = { streamKey: PUBLISHER.password, viewerPassword: VIEWER.password, relayPassword: RELAY.password };
export const PARIS = { lat: 48.86, lon: 2.35, country: 'FR', city: 'Paris' };

const hookKeys = new Map<string, ViewerTokenKey>();
const hookKey = (name: string): ViewerTokenKey => hookKeys.get(name) ?? hookKeys.set(name, verifierKey(`hook-${name}`, GATEWAY_KEY)).get(name)!;

function policy(role: 'origin' | 'node', nodeName: string, streams: string[]): AuthPolicy {
  return {
    role,
    streams: new Set(streams),
    viewerUser: VIEWER.user,
    publishAnyUser: false,
    publishProtocols: new Set(['rtsp']),
    readProtocols: new Set(['rtsp']),
    relaySubnets: new SubnetMatcher(['127.0.0.0/8']),
    nodeName,
    // Each machine's own key, accepting the gateways' (what a routing state would say).
    tokenKey: hookKey(nodeName),
  };
}

/**
 * Starts the plugin's own auth hook for one MediaMTX (origin or node `name`, serving `streams`), recording
 * each read decision in `reads` (then `onRead`); the hook goes into `hooks` for the test to close.
 */
export function recordingHooks(reads: Reads[], hooks: AuthHookServer[], streams: string[], onRead?: (role: 'origin' | 'node', name: string, d: AuthDecision, ip: string) => void) {
  return async (role: 'origin' | 'node', name: string): Promise<string> => {
    const h = new AuthHookServer({
      policy: () => policy(role, name, streams),
      secrets: () => SECRETS,
      onDecision: (d: AuthDecision, meta) => {
        if (meta.action !== 'read') return;
        reads.push({ node: name, ip: meta.ip, allow: d.allow, ...(d.allow ? { as: d.as, ...(d.via ? { via: d.via } : {}) } : { reason: d.reason }) });
        onRead?.(role, name, d, meta.ip);
      },
    });
    hooks.push(h);
    return h.listen();
  };
}

export interface Reads {
  node: string;
  ip: string;
  allow: boolean;
  /** Who the hook took the reader for (allowed reads). */
  as?: string;
  /** `token`: admitted by the gateway's signed token, no password checked. */
  via?: string;
  reason?: string;
}

/** A relay node as the app builds it: its MediaMTX on loopback behind its entry gateway. */
export interface EntryNode extends Mtx {
  /** The node's public RTSP port: its gateway. */
  rtspPort: number;
  /** Its MediaMTX's own RTSP port (loopback, behind the gateway). */
  mediaRtspPort: number;
  entry: EntryRouting;
}

export interface Haven {
  origin: Mtx;
  nodes: Record<'par' | 'fra', EntryNode>;
  stack: RoutingStack;
  /** The parsed config the stack reads per viewer (a test may change it live, as a config reload does). */
  config: ReturnType<typeof originConfigSchema.parse>;
  rtspPort: number;
  routed: Array<HavenEvents['viewer:routed'][0]>;
  refused: Array<HavenEvents['viewer:refused'][0]>;
  /** Every read decision of every auth hook (the hooks' own code, from @haven/plugin-mediamtx). */
  reads: Reads[];
  stop(): Promise<void>;
}

/**
 * A Haven on loopback with real processes: an origin MediaMTX fed by ffmpeg, two relay nodes (par
 * in Paris, fra in Frankfurt) pulling from it, each as the app builds a node: its MediaMTX (with the
 * plugin's real auth hook, token check included) on loopback behind its entry gateway
 * (`createEntryRouting`, from a routing state), and the origin's routing stack (gateway) in this process. 127.0.0.x viewers are
 * in Paris. Node arrivals reach the gateway's learner from the nodes' hooks (a reader whose token
 * verified), standing in for the node report over the VPN.
 */
export async function startHaven(
  gateway: Record<string, unknown> = {},
  viewer: Record<string, unknown> = {},
  /** Where the public listeners bind (gateway, nodes' RTSP) and which viewer addresses are in Paris. */
  net: { host?: string; paris?: string[] } = {},
): Promise<Haven> {
  const host = net.host ?? '127.0.0.1';
  const reads: Reads[] = [];
  const hooks: AuthHookServer[] = [];
  let stack: RoutingStack | undefined;
  const hook = recordingHooks(reads, hooks, ['live', 'other'], (role, name, d, ip) => {
    if (d.allow && role === 'node') stack?.rtspGateway.learner.arrived(name, [ip]);
  });
  const origin = await startMediamtx({ authHook: await hook('origin', 'origin'), trustProxies: true });
  startPublisher(`rtsp://${PUBLISHER.user}:${PUBLISHER.password}@127.0.0.1:${origin.rtspPort}/live`, 400);
  await waitFor('origin stream ready', () => mtxPathReady(origin.apiPort), 30_000);
  const relay = `rtsp://${RELAY.user}:${RELAY.password}@127.0.0.1:${origin.rtspPort}/live`;
  const [parMtx, fraMtx] = await Promise.all([
    startMediamtx({ source: relay, authHook: await hook('node', 'par'), trustProxies: true }),
    startMediamtx({ source: relay, authHook: await hook('node', 'fra'), trustProxies: true }),
  ]);
  await waitFor('relay nodes ready', async () => (await mtxPathReady(parMtx.apiPort)) && mtxPathReady(fraMtx.apiPort), 30_000);
  const paris = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', ...(net.paris ?? [])];
  const gatewayPorts = { par: await freePort(), fra: await freePort() };
  // The origin's routing state as its entries follow it: both nodes healthy entries.
  const statePublisher = createRoutingStatePublisher({
    haven: '0123456789abcdef',
    build: () => ({
      nodes: [
        { name: 'par', location: { lat: 48.86, lon: 2.35 }, rtspUrl: `rtsp://${host}:${gatewayPorts.par}`, healthy: true, capacity: 100, load: 0, entry: true },
        { name: 'fra', location: { lat: 50.11, lon: 8.68 }, region: 'eu-central', rtspUrl: `rtsp://${host}:${gatewayPorts.fra}`, healthy: true, capacity: 100, load: 0, entry: true },
      ],
      viewer: { user: VIEWER.user, realm: 'Stream Haven', ha1: digestHa1(VIEWER.user, 'Stream Haven', VIEWER.password) },
      players: [],
    }),
  });
  const entryNode = async (name: 'par' | 'fra', m: Mtx): Promise<EntryNode> => {
    const follower = createRoutingStateFollower({ haven: '0123456789abcdef', maxAgeMs: 3_600_000 });
    follower.accept(JSON.parse(JSON.stringify(statePublisher.current())));
    const entry = createEntryRouting({
      self: name,
      follower,
      tokenKey: () => GATEWAY_KEY,
      mediaRtsp: () => `127.0.0.1:${m.rtspPort}`,
      rtspListen: { host, port: gatewayPorts[name] },
      locator: () => tableLocator(Object.fromEntries(paris.map((ip) => [ip, PARIS]))),
      gateway: { stickySec: 0 },
    });
    for (const s of entry.list) await s.start();
    return { ...m, rtspPort: gatewayPorts[name], mediaRtspPort: m.rtspPort, entry };
  };
  const par = await entryNode('par', parMtx);
  const fra = await entryNode('fra', fraMtx);
  // par's first probe round ran before fra's gateway listened (refused: down at once): probe until
  // each sees the other up, as their background rounds would within a few health.intervalMs.
  await waitFor('every entry seeing the others up', async () => {
    for (const n of [par, fra]) await n.entry.health.probeAll();
    return [par, fra].every((n) => n.entry.registry.list().every((x) => x.origin || n.entry.health.state(x, 'live') === 'up'));
  }, 30_000, 100);
  const rtspPort = await freePort();
  const config = originConfigSchema.parse({
    role: 'origin',
    region: 'us-east',
    // Viewers reach this origin's gateway with nodes present: a public origin (unset would be private).
    exposure: 'public',
    public: { host, rtspPort, hlsPort: await freePort(), bind: host },
    health: { intervalMs: 60_000, freshMs: 0, redirectProbeTimeoutMs: 2000, timeoutMs: 2000 },
    viewer,
    gateway: { stickySec: 0, ...gateway },
    nodes: [
      { name: 'fra', region: 'eu-central', rtsp: `rtsp://${host}:${fra.rtspPort}` },
      { name: 'par', lat: 48.86, lon: 2.35, rtsp: `rtsp://${host}:${par.rtspPort}` },
    ],
  });
  const events = new HavenEmitter();
  const routed: Haven['routed'] = [];
  const refused: Haven['refused'] = [];
  events.on('viewer:routed', (e) => routed.push(e));
  events.on('viewer:refused', (e) => refused.push(e));
  stack = createOriginRouting({
    config,
    secrets: () => SECRETS,
    tokenKey: () => GATEWAY_KEY,
    locator: () => tableLocator(Object.fromEntries(paris.map((ip) => [ip, PARIS]))),
    media: () => ({ rtsp: `127.0.0.1:${origin.rtspPort}` }),
    events,
    hlsListen: false,
  });
  for (const s of stack.list) await s.start();
  const st = stack;
  // Each node's own count of its readers, from its MediaMTX, as its node reporter sends it (the
  // report's HTTP hop is tested with the control API; here it goes straight to the health view).
  let reporting = true;
  const reportLoop = (async () => {
    while (reporting) {
      for (const [name, m] of Object.entries({ par, fra })) {
        const readers = await mtxReaders(m.apiPort).catch(() => undefined);
        if (readers) st.health.reportReaders(name, readers.length);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  return {
    origin,
    nodes: { par, fra },
    stack: st,
    config,
    rtspPort,
    routed,
    refused,
    reads,
    stop: async () => {
      reporting = false;
      await reportLoop;
      for (const s of [...st.list].reverse()) await s.stop();
      for (const n of [par, fra]) for (const s of [...n.entry.list].reverse()) await s.stop();
      await stopAll();
      for (const h of hooks) await h.close();
    },
  };
}
