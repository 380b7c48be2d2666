import type { HavenEmitter, HavenNode, HavenSecrets, Logger, LogStats, NodeEntry, NodeHealthState, PlayerView, ProbeResult, RoutingStatePublisher, SecretName, StreamStats, ViewerLocation, ViewerRoutedEvent } from '@haven/core';
import type { IngestVerdict } from '@haven/ingest';
import type { RelayAssignment, RelayTreeView } from '../relay/planner.js';
import type { Registry } from 'prom-client';
import type { NodeReport } from './schemas.js';

/** One node (the origin's own node included) as the Haven's services see it right now. */
export interface NodeInfo {
  node: HavenNode;
  health: NodeHealthState;
  /** Current readers on the node. When a fresh node report exists, the report wins. Default 0. */
  viewers?: number;
  /** The last probe: when (epoch ms) and what it said. */
  lastProbe?: { at: number; result: ProbeResult };
  /** Seconds since the node's last WireGuard handshake, if the VPN knows. */
  handshakeAgeSec?: number;
  /** The node's HTTPS HLS base URL while its reports say it serves a CA certificate. */
  httpsUrl?: string;
}

/** What `ControlApiDeps.status()` answers: the raw picture the API turns into its views. */
export interface StatusInfo {
  /** The relay tree (who feeds whom), when the origin plans one. */
  relay?: RelayTreeView;
  /** The Haven's name. */
  name: string;
  /** `running`, `starting`... (the Haven's state). */
  state: string;
  /** Epoch ms the Haven started. */
  startedAt?: number;
  /** The log's sink: lines written and dropped while the log reader stalled. */
  log?: LogStats;
  /** `vrchat`: the ingest check's verdict while the stream is live. */
  streams: Array<StreamStats & { vrchat?: IngestVerdict }>;
  /** Every node, the origin's own node (with `origin: true`) included. */
  nodes: NodeInfo[];
  /** Public entry points of the gateway: `rtsp://host:port` and `http://host:port`. */
  gateway: { rtspUrl: string; hlsUrl?: string };
  /**
   * The origin's exposure (`originExposure`). `private`: viewer links name entry nodes only, one per
   * entry ordered by region, never the origin.
   */
  exposure?: 'private' | 'public';
  /** Why (`exposureReason`): set in the config, or the default from the number of nodes. */
  exposureWhy?: string;
  /**
   * Set while the running gateway's listeners (bound at start) differ from `exposure` now, e.g. after
   * the first `haven node add` with `exposure` unset: what changes at the next `haven start` (`exposureChange`).
   */
  exposureChange?: string;
  /** Public ingest addresses for publish URLs (`host:port`). */
  ingest?: { rtmp?: string; srt?: string; /** Path prefix publishers use (`ingest/` while the audio fix is on). */ pathPrefix?: string };
  /** What the RTSP gateway learned per player: follow-through of its redirects and auth schemes. */
  players?: PlayerView[];
}

/** One step of a dry-run decision: what the router would do for a viewer. */
export interface RouteExplain {
  stream: string;
  viewer?: ViewerLocation;
  /** What would happen: redirect to a node, serve through the local splice, or refuse (no node at all). */
  mode: ViewerRoutedEvent['mode'] | 'refuse';
  reason: string;
  /** The chosen node's name; undefined when no node can take the viewer. */
  node?: string;
  /** The URL the viewer would be sent to (no credentials). */
  target?: string;
  candidates: Array<{
    node: string;
    health: NodeHealthState;
    load: number;
    distanceKm?: number;
    /** Why the router passed over this node, if it did. */
    skipped?: string;
  }>;
}

/**
 * What the control API needs from the Haven. The app's glue builds it from the real services; a
 * test builds a fake. The API never reaches into routing internals.
 */
export interface ControlApiDeps {
  /** Subscribed for metrics, routing decisions and live page updates. */
  events: HavenEmitter;
  status(): Promise<StatusInfo>;
  nodes: {
    /** Add a node live; rejects with HavenError `NODE_DUPLICATE`, `REGION_UNKNOWN`... */
    add(entry: NodeEntry): Promise<HavenNode>;
    /** Resolves false when there was no such node. */
    remove(name: string): Promise<boolean>;
  };
  /** Dry run: what would the router do for this viewer? Nothing is counted or changed. */
  route(input: { ip: string; userAgent?: string; stream: string }): Promise<RouteExplain>;
  rotateSecret(name: SecretName): Promise<void>;
  /**
   * Forget what the gateway learned about one player (its User-Agent exactly as the status shows it),
   * or about every player when none is given; resolves how many were cleared. Absent: 501.
   */
  resetPlayers?(userAgent?: string): Promise<number>;
  /** Current secrets, for the token-protected `GET /api/urls`. Absent: that endpoint answers 501. */
  secrets?(): HavenSecrets;
  /**
   * `GET /api/node-secrets` answers an empty viewer password (a private origin: entries hold only the
   * routing state's HA1). Default false.
   */
  withholdViewerPassword?(): boolean;
  /** Where an IP is (the Haven's Locator), to place viewers on the map. Never exposed raw. */
  locate?(ip: string): ViewerLocation | undefined;
  /**
   * A node's own credential (its report bearer and relay pull password, see `nodeCredential`), handed to
   * it by `GET /api/node-secrets`. Absent or undefined: the answer carries none.
   */
  nodeCredential?(node: string): string | undefined;
  /** The current node whose own credential `token` is; undefined for anything else (a removed node's included). */
  nodeOfCredential?(token: string): string | undefined;
  /** A node reported its readers and bytes (already authenticated and validated). */
  nodeReport?(report: NodeReport): void;
  /** A node's relay parent and direct peers (`GET /api/relay`, the node's own credential). Absent: 501. */
  relayAssignment?(node: string): RelayAssignment;
  /** The routing state entry nodes poll (`GET /api/routing-state`). Absent: 501. */
  routingState?: RoutingStatePublisher;
}

/** A token, or a function reading the current one (e.g. the relay password, which rotates). */
export type TokenSource = string | (() => string | undefined);

export interface ControlApiOptions {
  /** `host:port` to listen on; port 0 picks a free port. Default `127.0.0.1:8880`. */
  listen?: string;
  /**
   * Extra `Host` names the API answers to (e.g. a name in /etc/hosts). Loopback names and addresses and
   * the listen addresses are always allowed; any other `Host` gets 421 (DNS rebinding).
   */
  allowedHosts?: string[];
  /** Bearer token for every call that changes state or reveals secrets. Required. */
  token: TokenSource;
  /**
   * One more Bearer token accepted on the node-facing calls (`POST /api/node-report`...), besides the
   * control token and each node's own credential (`ControlApiDeps.nodeOfCredential`). A token shared by
   * every node cannot be revoked for one of them: the app passes none. Default: none.
   */
  nodeReportToken?: TokenSource;
  /**
   * Extra `host:port` (e.g. the origin's VPN address) that serves only `POST /api/node-report`, so
   * nodes can report while the control API stays on loopback. Default: none.
   */
  reportListen?: string;
  /**
   * Each node's own credential for reports and secret fetches: on the `reportListen` listener (the VPN),
   * a call from a node's VPN address is that node (WireGuard only lets a peer send from its own
   * addresses, so the address is as good as the peer's key), whatever token it sends. Rotating the relay
   * password therefore never locks a node out: it fetches the new one here. Returns the node's name.
   */
  nodeByAddress?: (ip: string) => string | undefined;
  /**
   * Addresses from which every call, reads included (status, viewers, metrics, the page), needs the
   * control token: for an API that listens beyond loopback (a container binds 0.0.0.0, where VPN peers
   * reach it too). Default: none (reads are open, as on the loopback default).
   */
  readsNeedToken?: (ip: string) => boolean;
  logger: Logger;
  /** Viewer user name in viewer URLs. Default `viewer`. */
  viewerUser?: string;
  /** Publisher user name in publish URLs. Default `publisher`. */
  publisherUser?: string;
  /** Max request body, bytes. Default 65536. */
  maxBodyBytes?: number;
  /** Recent routing decisions kept in memory. Default 500. */
  recentDecisions?: number;
  /** Window of the viewer map (routings counted per place), seconds. Default 3600. */
  viewerWindowSec?: number;
  /** A node report is used for viewer counts while younger than this, ms. Default 30000. */
  reportTtlMs?: number;
  /** Max concurrent live-update (SSE) clients. Default 32. */
  maxEventClients?: number;
  /** Coalesce live updates over this many ms. Default 250. */
  liveDebounceMs?: number;
  /** Also export Node.js process metrics (`haven_process_*`, event loop lag...). Default true. */
  processMetrics?: boolean;
}

export interface ControlApi {
  /** Listen; resolves with the bound port (useful with port 0). */
  start(): Promise<{ port: number; reportPort?: number }>;
  /** Close listeners and live clients; safe to call twice. */
  stop(): Promise<void>;
  /** Base URL, e.g. `http://127.0.0.1:8880`, once started. */
  url(): string;
  /**
   * Start the node-report listener (as `reportListen` does at start) on a running API, e.g. once the
   * VPN interface that holds its address came up. Resolves with its port; a second call returns it.
   */
  listenReports(at: string): Promise<number>;
  /** The Prometheus registry the API exports at `/metrics`. */
  readonly registry: Registry;
}
