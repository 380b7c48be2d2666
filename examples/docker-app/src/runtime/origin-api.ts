import { parseHostPort, createHttpsUrlBook, havenIdOf, originExposure, removeNodeEntry, type ConfigWriter, type Haven, type HavenError, type NodeEntry, type OriginConfig, type RoutingStatePlace, type Vpn } from '@haven/core';
import { createControlApi, havenApiDeps, havenRoutingState, type ControlApi } from '@haven/control';
import { type IngestMonitor } from '@haven/ingest';
import { createRelayDoor, type RelayDoor } from '@haven/gateway';
import { apiReadsNeedToken, containerBinds, withHost } from '../home/container-binds.js';
import { settingsOf } from '../home/derived.js';
import { defaultGateway } from '../home/lan-address.js';
import type { Loaded } from '../home/loaded.js';
import { isOriginVpn } from '../home/origin-vpn.js';
import { addNodeLive } from '../node/node-add.js';
import { startOriginTrust } from '../node/node-trust.js';
import { ingestPathPrefix } from './ingest-view.js';
import { createOriginRelay } from './relay.js';
import { publishHost } from './urls.js';

/** The origin's control API with everything it reports on (relay plan, node trust, HTTPS doors, routing state). */
export async function startOriginApi(haven: Haven, l: Loaded, token: string, writer: ConfigWriter, ingestCheck?: IngestMonitor): Promise<ControlApi> {
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
export function openRelayDoor(haven: Haven, l: Loaded): RelayDoor | undefined {
  const vpn = haven.provided.vpn;
  if (!vpn) return undefined;
  const set = (l.loaded.pluginOptions.mediamtx as { rtspAddress?: string } | undefined)?.rtspAddress;
  const host = set === undefined ? '127.0.0.1' : parseHostPort(set).host;
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
