import { type CredentialSubject, exposureChange, exposureReason, type Haven, HavenError, type HavenNode, logStats, nodeCredential, nodeOfCredential, originExposure, type StreamStats } from '@haven/core';
import type { IngestVerdict } from '@haven/ingest';
import { ApiError } from './http.js';
import type { ControlApiDeps, NodeInfo, RouteExplain, StatusInfo } from './types.js';
import type { NodeReport } from './schemas.js';
import type { RelayPlanner } from '../relay/planner.js';

export interface HavenApiDepsOptions {
  /** How nodes are added and removed (the app writes haven.yaml and applies it live). */
  nodes: ControlApiDeps['nodes'];
  /** Public ingest addresses shown in publish URLs (`host:port`). */
  ingest?: StatusInfo['ingest'];
  /** Share the viewer password with nodes (GET /api/node-secrets). Default true. */
  shareSecretsWithNodes?: boolean;
  /** The VRChat ingest check's verdict of a live stream (see `createIngestMonitor`). */
  vrchat?: (stream: string) => IngestVerdict | undefined;
  /** Called with each node report (e.g. to feed the health view). */
  onNodeReport?: (report: NodeReport) => void;
  /** The origin's relay tree: shown in status, and each node asks for its parent. */
  relay?: Pick<RelayPlanner, 'view' | 'assignmentOf'>;
  /** A node's HTTPS HLS base URL while it serves a CA certificate (from its reports: `createHttpsUrlBook`). */
  httpsUrl?: (node: string) => string | undefined;
}

/** The node entries of the running config (a node's own config has none). */
function nodeEntries(haven: Haven): readonly CredentialSubject[] {
  return (haven.config as { nodes?: CredentialSubject[] }).nodes ?? [];
}

function emptyStats(name: string): StreamStats {
  return { name, ready: false, readers: 0, bytesIn: 0, bytesOut: 0, tracks: [] };
}

/**
 * The control API's view of a running origin, built from its services: registry, health monitor,
 * router (dry-run) and media server. The API never reaches into routing internals itself.
 */
export function havenApiDeps(haven: Haven, options: HavenApiDepsOptions): ControlApiDeps {
  const startedAt = Date.now();
  // The gateway's listeners were bound at start with this exposure; the rest follows the config live.
  const startConfig = haven.config;
  const gatewayExposure = startConfig.role === 'origin' ? originExposure(startConfig) : undefined;
  const streams = () => haven.config.streams.map((s) => s.name);
  const services = () => {
    const { registry, health, router } = haven.services;
    if (!registry || !health || !router) throw new HavenError('the control API needs a running origin', { code: 'NOT_STARTED' });
    return { registry, health, router };
  };

  return {
    events: haven.events,
    async status(): Promise<StatusInfo> {
      const { registry, health } = services();
      const media = haven.provided.mediaServer;
      const stats: StatusInfo['streams'] = await Promise.all(
        streams().map((name) => (media ? media.stats(name).catch(() => emptyStats(name)) : Promise.resolve(emptyStats(name)))),
      );
      for (const s of stats) {
        const v = s.ready ? options.vrchat?.(s.name) : undefined;
        if (v) s.vrchat = v;
      }
      const snapshot = new Map(health.snapshot().map((s) => [s.node, s]));
      const peers = haven.provided.vpn ? await haven.provided.vpn.peers().catch(() => []) : [];
      const handshake = new Map(peers.map((p) => [p.publicKey, p.lastHandshakeAgeSec]));
      const nodes: NodeInfo[] = registry.list().map((node: HavenNode) => {
        const snap = snapshot.get(node.name);
        const info: NodeInfo = { node, health: snap?.state ?? 'unknown', viewers: node.origin ? stats.reduce((n, s) => n + s.readers, 0) : (snap?.load ?? 0) };
        const stream = snap?.streams.find((s) => s.last);
        if (stream?.last) info.lastProbe = { at: Date.now() - (stream.ageMs ?? 0), result: stream.last };
        const age = node.publicKey ? handshake.get(node.publicKey) : undefined;
        if (age !== undefined) info.handshakeAgeSec = age;
        const https = node.origin ? undefined : options.httpsUrl?.(node.name);
        if (https) info.httpsUrl = https;
        return info;
      });
      const origin = registry.origin();
      const status: StatusInfo = {
        name: haven.config.name,
        state: haven.state,
        startedAt,
        streams: stats,
        nodes,
        gateway: { rtspUrl: origin?.rtspUrl ?? '', ...(origin?.hlsUrl ? { hlsUrl: origin.hlsUrl } : {}) },
      };
      if (haven.config.role === 'origin') {
        status.exposure = originExposure(haven.config);
        status.exposureWhy = exposureReason(haven.config);
        const change = gatewayExposure ? exposureChange(gatewayExposure, haven.config) : undefined;
        if (change) status.exposureChange = change;
      }
      if (options.ingest) status.ingest = options.ingest;
      const log = logStats(haven.logger);
      if (log) status.log = log;
      const players = haven.services.players?.snapshot();
      if (players) status.players = players;
      if (options.relay) status.relay = options.relay.view();
      return status;
    },
    nodes: options.nodes,
    async route({ ip, userAgent, stream }): Promise<RouteExplain> {
      const { router, registry } = services();
      const e = router.explain(ip, userAgent, stream);
      const node = e.node ? registry.get(e.node) : undefined;
      const out: RouteExplain = {
        stream: e.stream,
        mode: e.mode,
        reason: e.reason,
        candidates: e.candidates.map((c) => ({
          node: c.node,
          health: c.health,
          load: c.load,
          ...(c.distanceKm !== undefined ? { distanceKm: c.distanceKm } : {}),
        })),
      };
      if (e.location) out.viewer = e.location;
      if (e.node) out.node = e.node;
      if (node) out.target = `${node.rtspUrl}/${e.stream}`;
      return out;
    },
    rotateSecret: (name) => haven.rotateSecret(name),
    resetPlayers: async (userAgent) => {
      const learner = haven.services.players;
      if (!learner) throw new ApiError(409, 'NO_GATEWAY', 'this Haven runs no RTSP gateway here: nothing was learned about players');
      const n = learner.reset(userAgent);
      await learner.save();
      haven.logger.info({ area: 'routing', userAgent: userAgent ?? '(all)', cleared: n }, 'what was learned about players was cleared by the operator');
      return n;
    },
    secrets: options.shareSecretsWithNodes === false ? undefined : () => haven.secrets(),
    locate: (ip) => haven.provided.locator?.locate(ip),
    nodeCredential: (node) => nodeCredential(haven.secrets().relayPassword, nodeEntries(haven).find((n) => n.name === node) ?? { name: node }),
    nodeOfCredential: (token) => nodeOfCredential(haven.secrets().relayPassword, nodeEntries(haven), token),
    nodeReport: (report) => {
      // The node's own count of its readers is its load; new readers' addresses settle redirects.
      const { health, players } = haven.services;
      health?.reportReaders(report.node, report.streams.reduce((n, s) => n + s.readers, 0));
      const arrivals = report.streams.flatMap((s) => s.arrivals ?? []);
      if (arrivals.length > 0) players?.arrived(report.node, arrivals);
      options.onNodeReport?.(report);
    },
    ...(options.relay ? { relayAssignment: (node: string) => options.relay!.assignmentOf(node) } : {}),
  } satisfies ControlApiDeps as ControlApiDeps;
}

