import path from 'node:path';
import { addNodeEntry, ConfigWriter, createHaven, originExposure, havenIdOf, createHttpsUrlBook, HavenError, loadConfig, randomToken, readPrivateFile, removeNodeEntry, watchConfig, writePrivateFile, type Haven, type HavenPlugin, type LoadedConfig, type NodeEntry, type OriginConfig, type RoutingStatePlace, type Vpn } from '@haven/core';
import { createControlApi, createNodeReporter, havenApiDeps, havenRoutingState, type ControlApi, type NodeReporter } from '@haven/control';
import { type IngestMonitor } from '@haven/ingest';
import { createRelayDoor, gatewayServices, type RelayDoor } from '@haven/gateway';
import type { MediaMtxServer } from '@haven/plugin-mediamtx';
import { apiReadsNeedToken, containerBinds, withHost } from './container-binds.js';
import { defaultGateway } from './lan-address.js';
import { type Home, peekConfig, requireConfig } from './home.js';
import { settingsOf } from './derived.js';
import { readJoinState, unknownViewerPassword, writeJoinState, type JoinState } from './join.js';
import { addNodeLive } from './node-add.js';
import { isOriginVpn } from './origin-vpn.js';
import { selectPlugins } from './plugins.js';
import { terminalLog } from './terminal-log.js';
import { publishHost } from './urls.js';
import { startRoutingFollow } from './routing-follow.js';
import { startEntryGateway } from './entry-gateway.js';
import { ingestPathPrefix, startIngestCheck } from './ingest-view.js';
import { createOriginRelay, createRelayFollower } from './relay.js';
import { startOriginTrust, startEntryTrust } from './node-trust.js';

export const API_TOKEN_FILE = 'api-token';

export interface Loaded {
  home: Home;
  loaded: LoadedConfig;
  plugins: HavenPlugin[];
  join?: JoinState | undefined;
}

/** Read and validate haven.yaml with the plugins it needs. */
export async function loadHome(home: Home): Promise<Loaded> {
  requireConfig(home);
  const peek = peekConfig(home);
  // The join state sits in the state dir, which the config names: a first pass finds it.
  const choice = { role: peek.role, sections: peek.plugins, hasNodes: peek.hasNodes, settings: peek.settings };
  const first = await loadConfig(home.configFile, selectPlugins(choice));
  const join = first.config.role === 'node' ? await readJoinState(first.stateDir) : undefined;
  const ingestBind = containerBinds().ingest;
  // Ports as haven.yaml sets them (MediaMTX's defaults otherwise); only the host is the container's.
  const mtx = (first.pluginOptions.mediamtx ?? {}) as { rtmpAddress?: string; srtAddress?: string };
  const ingest = ingestBind ? { rtmpAddress: withHost(mtx.rtmpAddress ?? ':1935', ingestBind), srtAddress: withHost(mtx.srtAddress ?? ':8890', ingestBind) } : undefined;
  const plugins = selectPlugins({ ...choice, join, ingest });
  const loaded = await loadConfig(home.configFile, plugins);
  return { home, loaded, plugins, join };
}

/** The control API token (0600 in the state dir), created on first use. */
export async function apiToken(stateDir: string): Promise<string> {
  const file = path.join(stateDir, API_TOKEN_FILE);
  const existing = (await readPrivateFile(file))?.trim();
  if (existing) return existing;
  const token = randomToken(40);
  await writePrivateFile(file, `${token}\n`);
  return token;
}

export interface Running {
  haven: Haven;
  api?: ControlApi;
  stop(): Promise<void>;
}

type Progress = (message: string) => void;

/** Start the role in the foreground: plugins, core services, control API, config watcher. */
export async function startHaven(l: Loaded, progress: Progress, o: { jsonLogs?: boolean; logLevel?: string } = {}): Promise<Running> {
  const { loaded, plugins } = l;
  const cfg = loaded.config;
  if (cfg.role === 'node' && !l.join) {
    throw new HavenError('this node has not joined a Haven yet: run `haven node join <bundle>` with the bundle the origin gave you', { code: 'NOT_STARTED' });
  }
  const log = terminalLog({ level: o.logLevel ?? cfg.log.level, name: `haven-${cfg.role}`, json: !!o.jsonLogs });
  const haven = createHaven(loaded, plugins, { logger: log.logger, redactor: log.redactor, services: gatewayServices });
  const READY: Record<string, string> = { wireguard: 'WireGuard tunnel up', mediamtx: 'MediaMTX answering', geo: 'GeoIP database loaded' };
  haven.events.on('plugin:started', ({ name }) => {
    const vpn = haven.provided.vpn;
    if (name === 'wireguard' && isOriginVpn(vpn) && !vpn.isUp) progress('WireGuard ready: the tunnel comes up with the first `haven node add`');
    else progress(READY[name] ?? `${name} ready`);
  });
  haven.events.on('health:changed', ({ node, to, result }) => progress(`node ${node} is ${to}${result.reason ? ` (${result.reason})` : ''}`));
  haven.events.on('publisher:up', ({ stream }) => progress(`publisher live on "${stream}"`));
  haven.events.on('publisher:down', ({ stream }) => progress(`publisher left "${stream}"`));
  progress(`starting ${cfg.role} "${cfg.name}" (plugins: ${plugins.map((p) => p.name).join(', ')})`);
  await haven.start();

  const parts: Array<() => Promise<void>> = [() => haven.stop()];
  const stop = async () => {
    for (const p of parts.reverse()) await p().catch(() => {});
  };
  try {
    const token = await apiToken(haven.stateDir);
    if (cfg.role === 'origin') {
      // Nodes added live are dialled from the running config (a private origin dials out).
      const originVpn = haven.provided.vpn;
      if (isOriginVpn(originVpn)) originVpn.configFrom(() => haven.config as OriginConfig);
      // Every config change (API, CLI through the API, the file watcher) goes through this one queue.
      const writer = new ConfigWriter({ file: loaded.file, plugins, apply: (next) => haven.applyConfig(next) });
      const ingestCheck = startIngestCheck(haven);
      if (ingestCheck) parts.push(() => ingestCheck.stop());
      const api = await startOriginApi(haven, l, token, writer, ingestCheck);
      parts.push(() => api.stop());
      const door = openRelayDoor(haven, l);
      if (door) parts.push(() => door.close());
      progress(`control API and status page on ${api.url()}`);
      const watcher = await watchConfig(loaded.file, {
        plugins,
        onChange: async () => {
          try {
            await writer.reload();
          } catch (err) {
            haven.logger.error({ err }, 'the edited config could not be applied; the running config stays as it was');
            haven.events.emit('error', { error: err as HavenError, source: 'config' });
          }
        },
        onInvalid: (error) => haven.logger.error({ err: error }, 'the edited config is invalid; the running config stays as it was'),
      });
      parts.push(async () => watcher.close());
      const origin = haven.services.registry?.origin();
      if (originExposure(cfg as OriginConfig) === 'private') {
        progress(`private origin: nothing listens on a public address; viewers come in through the entry nodes (\`haven urls\`); this machine dials each node's WireGuard`);
      } else {
        progress(`players: ${origin?.rtspUrl ?? '?'}/<stream> (RTSP; rtspt:// in VRChat), ${origin?.hlsUrl ?? '?'}/<stream>/index.m3u8 (HLS over http:// sends the password with Basic: prefer RTSP)`);
      }
      const media = haven.provided.mediaServer?.endpoints();
      const port = (a?: string) => a?.slice(a.lastIndexOf(':') + 1);
      const ingestHost = publishHost(cfg, (loaded.pluginOptions.mediamtx ?? {}) as { ingest?: string; rtmpAddress?: string });
      const host = ingestHost.includes(':') ? `[${ingestHost}]` : ingestHost;
      if (media?.rtmp) progress(`OBS: rtmp://${host}:${port(media.rtmp)} or srt://${host}:${port(media.srt)} with the stream key`);
      return { haven, api, stop };
    }
    const reporter = startNodeReporter(haven, l.join!);
    parts.push(() => reporter.stop());
    const routing = startRoutingFollow(haven, l.join!);
    parts.push(() => routing.stop());
    const trust = startEntryTrust(haven, routing.follower);
    parts.push(async () => trust.stop());
    const entry = await startEntryGateway(haven, l.join!, routing.follower);
    parts.push(() => entry.stop());
    return { haven, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startOriginApi(haven: Haven, l: Loaded, token: string, writer: ConfigWriter, ingestCheck?: IngestMonitor): Promise<ControlApi> {
  const cfg = haven.config as OriginConfig;
  const vpn: Vpn | undefined = haven.provided.vpn;
  const ingest = haven.provided.mediaServer?.endpoints();
  const publicHost = publishHost(cfg, (l.loaded.pluginOptions.mediamtx ?? {}) as { ingest?: string; rtmpAddress?: string });
  const portOf = (hostPort?: string) => hostPort?.split(':').pop();
  const relay = createOriginRelay(haven, l);
  // Each node's token key and relay credential count only while it is in the config.
  const trust = startOriginTrust(haven);
  // Nodes with a CA certificate say so in each report (their HTTPS base URL); gone after 3 missed reports.
  // A URL counts only for the node's own public host (the host of its RTSP URL here).
  const httpsBook = createHttpsUrlBook({
    ttlMs: 35_000,
    hostOf: (name) => {
      const node = haven.services.registry?.get(name);
      return node && !node.origin ? new URL(node.rtspUrl).hostname : undefined;
    },
  });
  const httpsRefused = new Map<string, string>();
  const deps = havenApiDeps(haven, {
    ...(ingestCheck ? { vrchat: (s: string) => ingestCheck.verdict(s) } : {}),
    relay: relay.planner,
    httpsUrl: (n) => httpsBook.get(n),
    onNodeReport: (report) => {
      const refused = httpsBook.report(report.node, report.httpsUrl);
      // Said once per node and reason, not on every report.
      if (refused && httpsRefused.get(report.node) !== refused) haven.logger.warn({ node: report.node }, `HTTPS door not offered to viewers: ${refused}`);
      if (refused) httpsRefused.set(report.node, refused);
      else httpsRefused.delete(report.node);
      relay.onReport(report);
      trust.onReport(report);
    },
    ingest: {
      ...(ingest?.rtmp ? { rtmp: `${publicHost}:${portOf(ingest.rtmp)}` } : {}),
      ...(ingest?.srt ? { srt: `${publicHost}:${portOf(ingest.srt)}` } : {}),
      ...ingestPathPrefix(l),
    },
    nodes: {
      // One queue with the file watcher and the API: concurrent additions never race.
      add: async (entry: NodeEntry) => writer.run(() => addNodeLive({ haven, file: l.loaded.file, plugins: l.plugins, entry })),
      remove: async (name: string) => {
        if (!haven.services.registry?.get(name) || haven.services.registry.get(name)?.origin) return false;
        await writer.update(removeNodeEntry(name));
        return true;
      },
    },
  });
  // Nodes report over the VPN: the listener starts with the tunnel (at start, or at the first node add).
  const reportListen = () => {
    const r = settingsOf(l.loaded).report;
    return `${r.host}:${r.port}`;
  };
  // A private origin's nodes never get the viewer password in clear (they check the HA1 below).
  deps.withholdViewerPassword = () => originExposure(haven.config as OriginConfig) === 'private';
  // Entry nodes poll the routing state (nodes, health, load, viewer HA1, players) on the report listener.
  // Entries place viewers with this origin's geo overrides too (the routing state's places).
  const places = ((l.loaded.pluginOptions.geo ?? {}) as { overrides?: RoutingStatePlace[] }).overrides ?? [];
  if (vpn) {
    deps.routingState = havenRoutingState(haven, {
      havenId: havenIdOf(await vpn.identity()),
      httpsUrl: (n) => httpsBook.get(n),
      places: () => places,
      tokenKey: (n) => trust.tokenKey(n),
    });
  }
  const vpnUp = !!vpn && (!isOriginVpn(vpn) || vpn.isUp);
  const apiBind = containerBinds().api;
  const api = createControlApi(deps, {
    listen: apiBind ? withHost(cfg.api.listen, apiBind) : cfg.api.listen,
    // VPN peers (and, in a container, anything but the host) read nothing without the token.
    readsNeedToken: apiReadsNeedToken({ vpnSubnets: [settingsOf(l.loaded).vpn.subnet, ...settingsOf(l.loaded).relaySubnets], containerBind: apiBind, hostGateway: apiBind ? defaultGateway() : undefined }),
    token,
    // Nodes call with their own credential (havenApiDeps' nodeOfCredential), never a shared one.
    ...(vpnUp ? { reportListen: reportListen() } : {}),
    // On the VPN listener a node's address names it too (WireGuard lets a peer send only from its own).
    nodeByAddress: (ip) => (haven.config as OriginConfig).nodes.find((n) => n.vpnAddress === ip)?.name,
    logger: haven.logger.child({ area: 'api' }),
    viewerUser: cfg.viewer.user,
  });
  await api.start();
  const stopApi = api.stop.bind(api);
  api.stop = async () => {
    relay.stop();
    trust.stop();
    await stopApi();
  };
  // A tunnel that comes up later (the first node, added live) opens the report listener then.
  if (isOriginVpn(vpn)) vpn.onUp(async () => void (await api.listenReports(reportListen())));
  return api;
}

/**
 * Nodes pull over the VPN from the origin's MediaMTX, which listens on loopback (see the MediaMTX
 * plugin's `resolveListeners`): the relay door on the VPN address opens with the tunnel. A MediaMTX
 * set by hand to listen on every interface (`rtspAddress: ':9654'`) needs no door.
 */
function openRelayDoor(haven: Haven, l: Loaded): RelayDoor | undefined {
  const vpn = haven.provided.vpn;
  if (!vpn) return undefined;
  const set = (l.loaded.pluginOptions.mediamtx as { rtspAddress?: string } | undefined)?.rtspAddress;
  const host = set === undefined ? '127.0.0.1' : set.slice(0, set.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  if (!/^(127\.|::1$|localhost$)/.test(host)) return undefined;
  const { relay } = settingsOf(l.loaded);
  const door = createRelayDoor({ upstream: { host, port: relay.port } });
  const open = async () => {
    const port = await door.listen(relay);
    haven.logger.info({ at: `${relay.host}:${port}` }, 'relay door for nodes open on the VPN address');
  };
  const fail = (err: unknown) => {
    haven.logger.error({ err }, 'the relay door for nodes could not open: nodes cannot pull');
    haven.events.emit('error', { error: err as HavenError, source: 'relay-door' });
  };
  if (!isOriginVpn(vpn) || vpn.isUp) open().catch(fail);
  if (isOriginVpn(vpn)) vpn.onUp(() => open().catch(fail));
  return door;
}

/** A node reports its readers to the origin and follows the origin's viewer password. */
function startNodeReporter(haven: Haven, join: JoinState): NodeReporter & { stop(): Promise<void> } {
  const media = haven.provided.mediaServer;
  const reporter = createNodeReporter({
    url: join.reportUrl,
    // The node's own credential (the origin hands it out per node; kept under the relay password's name).
    token: () => haven.secrets().relayPassword,
    tokenKey: () => haven.tokenKey().publicKey,
    node: haven.config.name,
    httpsUrl: () => (media as Partial<Pick<MediaMtxServer, 'httpsDoor'>> | undefined)?.httpsDoor?.offer(),
    logger: haven.logger.child({ area: 'report' }),
    collect: async () =>
      Promise.all(
        haven.config.streams.map(async (s) => {
          const st = await media!.stats(s.name);
          return {
            name: s.name,
            ready: st.ready,
            readers: st.readers,
            bytesIn: st.bytesIn,
            bytesOut: st.bytesOut,
            ...(st.readerAddresses ? { readerAddresses: st.readerAddresses } : {}),
          };
        }),
      ),
  });
  reporter.start();
  const relay = createRelayFollower(haven, join, { reportNow: () => reporter.sendNow() });
  let closed = false;
  const follow = async () => {
    try {
      const res = await fetch(new URL('/api/node-secrets', join.reportUrl), {
        headers: { authorization: `Bearer ${haven.secrets().relayPassword}` },
        signal: AbortSignal.timeout(5000),
      });
      if (res.ok) {
        const body = (await res.json()) as { viewerPassword?: string; relayPassword?: string };
        const now = haven.secrets();
        const changed: Partial<Record<'viewerPassword' | 'relayPassword', string>> = {};
        // An empty password: the origin withholds it (it is private now). A node that joined while it was
        // public drops the one it was given, as a node that joins a private origin never gets it; its
        // viewers are checked against the routing state's HA1. The origin going public again hands it back.
        const held = body.viewerPassword !== '';
        if (held !== (join.viewerPasswordHeld !== false)) {
          if (!held) changed.viewerPassword = unknownViewerPassword();
          join.viewerPasswordHeld = held;
          await writeJoinState(haven.stateDir, join);
          haven.logger.info({}, held ? 'the origin shares the viewer password with its nodes again: this node holds it' : 'the origin is private: this node dropped the viewer password it held (viewers are checked against the origin\'s verifier)');
        }
        if (body.viewerPassword && body.viewerPassword !== now.viewerPassword) changed.viewerPassword = body.viewerPassword;
        if (body.relayPassword && body.relayPassword !== now.relayPassword) changed.relayPassword = body.relayPassword;
        if (Object.keys(changed).length > 0) {
          await haven.adoptSecrets(changed);
          haven.logger.info({ updated: Object.keys(changed) }, 'secrets updated from the origin');
        }
      }
    } catch {
      // The origin is unreachable for now; the reporter logs that once.
    }
  };
  const timer = setInterval(() => void follow(), 10_000);
  timer.unref();
  void follow();
  // The relay tree changes within seconds of a node going down: ask for this node's parent often.
  const relayTimer = setInterval(() => void relay.follow().catch((err: Error) => haven.logger.warn({ err: err.message }, 'following the relay tree failed; retrying')), 2000);
  relayTimer.unref();
  // A parent that died is noticed within a second (relay.ts `watch`), not at the origin's next probe round.
  const watchTimer = setInterval(() => void relay.watch().catch((err: Error) => haven.logger.warn({ err: err.message }, 'watching the relay parent failed')), 250);
  watchTimer.unref();
  return {
    ...reporter,
    async stop() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      clearInterval(relayTimer);
      clearInterval(watchTimer);
      await reporter.stop();
    },
  };
}
