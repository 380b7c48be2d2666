/**
 * The contracts a plugin may provide. Each is a `name`, a few required methods, optional extras, and
 * a `capabilities` object that core reads instead of `instanceof` checks.
 */
import type { GeoPoint } from './geo.js';

// ---------------------------------------------------------------------------------------------
// Shared shapes
// ---------------------------------------------------------------------------------------------

/** Where an IP is, as far as a Locator knows. */
export interface ViewerLocation extends GeoPoint {
  country?: string;
  city?: string;
  /** Which source answered: `override`, `geoip2`, `dbip`, a plugin's own name... */
  source?: string;
  /** Accuracy radius in km when the database gives one. */
  accuracyKm?: number;
}

/** A stream the Haven serves. `name` is the MediaMTX path name (`[A-Za-z0-9_-]`). */
export interface StreamSpec {
  name: string;
}

/** The Haven's generated secrets. Never logged; see `SecretStore`. */
export interface HavenSecrets {
  /** Publishers (OBS) present this as the password of user `publisher`. */
  streamKey: string;
  /** Viewers present this as the password of the viewer user. */
  viewerPassword: string;
  /** Nodes present this as the password of user `relay` when pulling over the VPN. */
  relayPassword: string;
}

export type SecretName = keyof HavenSecrets;

/** A relay node (or the origin itself) as the router sees it. */
export interface HavenNode {
  /** Unique, `[a-z0-9-]`. The origin's node is named after the Haven (`origin` by default). */
  name: string;
  /** True for the origin's own node: served through the gateway's local splice. */
  origin?: boolean;
  region?: string;
  location: GeoPoint;
  /** Public RTSP base URL viewers are redirected to, e.g. `rtsp://198.51.100.7:8554`. */
  rtspUrl: string;
  /** Public HLS base URL, e.g. `http://198.51.100.7:8888`. */
  hlsUrl?: string;
  /** Max concurrent viewers this node accepts; 0 = unlimited. */
  capacity: number;
  /** WireGuard public key (base64) when the node is on the VPN. */
  publicKey?: string;
  /** Address inside the VPN, e.g. `10.77.0.2`. */
  vpnAddress?: string;
}

// ---------------------------------------------------------------------------------------------
// MediaServer
// ---------------------------------------------------------------------------------------------

export interface StreamStats {
  name: string;
  /** A publisher (origin) or the relay pull (node) is up and tracks are known. */
  ready: boolean;
  /** Viewers reading it here (relay nodes pulling it are not counted). */
  readers: number;
  /** Relay nodes pulling it from here (an origin's nodes over the VPN). */
  relays?: number;
  bytesIn: number;
  bytesOut: number;
  tracks: string[];
  /** Kind of source, e.g. `rtmpConn`, `srtConn`, `rtspSource`. */
  sourceType?: string;
  /** Addresses of the RTSP viewers reading it now (a node reports new ones to the origin). */
  readerAddresses?: string[];
}

/** One track as MediaMTX describes it (`tracks2` of `/v3/paths/get`). */
export interface IngestTrack {
  /** MediaMTX's codec name: `H264`, `H265`, `MPEG-4 Audio`, `Opus`, `G711`, `MPEG-1/2 Audio`, `LPCM`... */
  codec: string;
  width?: number;
  height?: number;
  /** H.264/H.265 profile as MediaMTX reports it (`High`, `Main`...). */
  profile?: string;
  sampleRate?: number;
  channels?: number;
}

export interface MediaServerCapabilities {
  protocols: { rtmp?: boolean; srt?: boolean; rtsp?: boolean; hls?: boolean; webrtc?: boolean };
  /** Accepts a PROXY protocol header on its RTSP port from the gateway (splice keeps the viewer IP). */
  proxyProtocol: boolean;
  /** Secrets can change without a restart (auth hook). */
  liveSecrets: boolean;
}

/** Addresses the media server listens on, for the gateway's splice and for status output. */
export interface MediaEndpoints {
  /** Local RTSP `host:port` the gateway splices to. */
  rtsp?: string;
  /** Local HLS base URL, e.g. `http://127.0.0.1:8888`. */
  hls?: string;
  rtmp?: string;
  srt?: string;
}

export interface MediaServer {
  readonly name: string;
  readonly capabilities: MediaServerCapabilities;
  /** Make the server serve exactly these streams (idempotent). */
  apply(streams: StreamSpec[]): Promise<void>;
  stats(stream: string): Promise<StreamStats>;
  /** Disconnect a session or connection by its id. Resolves false when it was not found. */
  kick(sessionId: string): Promise<boolean>;
  endpoints(): MediaEndpoints;
  /** Secrets changed (rotation): take effect for new sessions without a restart where possible. */
  updateSecrets?(secrets: HavenSecrets): Promise<void>;
  /**
   * Failed authentications from this IP in the last minute, counted by the server itself (viewers the
   * gateway spliced through authenticate there). The gateway adds them to its own rate limit.
   */
  authFailures?(ip: string): number;
  /** What the publisher sends on this stream, track by track (the ingest check reads it). */
  publishedTracks?(stream: string): Promise<IngestTrack[]>;
  /**
   * A URL on this machine that reads what the publisher sends (before any repair), with a credential
   * valid only from here. For the ingest sampler; never logged.
   */
  publishedReadUrl?(stream: string): string;
  /** The server re-encodes this stream's audio for viewers right now (see the ingest check). */
  audioFixed?(stream: string): boolean;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Vpn
// ---------------------------------------------------------------------------------------------

export interface VpnPeer {
  publicKey: string;
  /** Addresses routed to this peer, e.g. `['10.77.0.2/32']`. */
  allowedIps: string[];
  /** `host:port` the peer is reached at, if known. */
  endpoint?: string;
  persistentKeepaliveSec?: number;
  /** Human name for logs and status. */
  name?: string;
}

export interface VpnPeerStatus extends VpnPeer {
  /** Seconds since the last handshake; undefined when there never was one. */
  lastHandshakeAgeSec?: number;
  rxBytes: number;
  txBytes: number;
}

export interface VpnCapabilities {
  /** `kernel`, `userspace` or a plugin's own word. */
  implementation: string;
  /** Peers can be added/removed while up without touching other peers. */
  livePeers: boolean;
}

export interface Vpn {
  readonly name: string;
  readonly capabilities: VpnCapabilities;
  /** This side's public key (base64). */
  identity(): Promise<string>;
  /** This side's address inside the VPN. */
  address(): string;
  up(): Promise<void>;
  /** Adding a peer never drops other peers. Adding a known key updates it. */
  addPeer(peer: VpnPeer): Promise<void>;
  removePeer(publicKey: string): Promise<boolean>;
  peers(): Promise<VpnPeerStatus[]>;
  down(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Locator
// ---------------------------------------------------------------------------------------------

export interface LocatorCapabilities {
  ipv6: boolean;
  /** Database behind it can be refreshed while running. */
  updates: boolean;
}

export interface Locator {
  readonly name: string;
  readonly capabilities: LocatorCapabilities;
  /**
   * Where is this IP? Must be fast (called per viewer), synchronous-feeling, and must never throw
   * for odd input: private, loopback, malformed or unknown addresses resolve to `undefined`.
   */
  locate(ip: string): ViewerLocation | undefined;
  /**
   * Optional, for a locator that asks elsewhere (an entry node asks its origin): start finding `ip`
   * (a viewer just connected); resolves once `locate` can answer for it. Never rejects.
   */
  prepare?(ip: string): Promise<void>;
  /** Attribution or database description for status output. */
  describe?(): { source: string; attribution?: string; buildDate?: string };
  close?(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// HealthProbe
// ---------------------------------------------------------------------------------------------

export interface ProbeResult {
  up: boolean;
  rttMs: number;
  /** The stream is readable on that node. */
  ready: boolean;
  readers?: number;
  /** Short, secret-free reason when down (`ECONNREFUSED`, `timeout`, `404 Not Found`...). */
  reason?: string;
}

export interface ProbeTarget {
  node: HavenNode;
  stream: string;
}

export interface HealthProbe {
  readonly name: string;
  probe(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult>;
  /** Let go of what the probe keeps between calls (kept connections); called when its monitor stops. */
  close?(): void;
}

// ---------------------------------------------------------------------------------------------
// NodeSelector
// ---------------------------------------------------------------------------------------------

export type NodeHealthState = 'up' | 'down' | 'unknown';

export interface NodeCandidate {
  node: HavenNode;
  health: NodeHealthState;
  /** Current readers on the node (from probes or reports). */
  load: number;
}

export type SelectionReason =
  | 'nearest'
  | 'sticky'
  | 'origin-nearest'
  | 'fallback-no-location'
  | 'fallback-no-healthy-node'
  | 'fallback-all-full';

export interface Selection {
  /** Candidates in order of preference: try the first, then the next... */
  ordered: Array<{ node: HavenNode; distanceKm?: number }>;
  reason: SelectionReason;
}

export interface SelectInput {
  viewer?: ViewerLocation;
  candidates: NodeCandidate[];
}

/** Pure: no I/O, no clock. */
export type NodeSelector = (input: SelectInput) => Selection;
