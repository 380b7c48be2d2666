import { stringify } from 'yaml';
import type { StreamSpec } from '@haven/core';
import { joinHostPort } from '@haven/core';
import type { MediamtxOptions } from './options.js';
import { renderForwardingUpstream, renderPublishedViewerPath, renderViewerPath, upstreamPath, type ForwardToViewers, type OfflineTrack } from './node-paths.js';

export type Role = 'origin' | 'node';

/** The user names the auth hook knows. */
export const PUBLISHER_USER = 'publisher';
export const RELAY_USER = 'relay';
/** The user name of the plugin's own Control API/metrics credential (its password is random per process). */

/** Everything the renderer needs, with role defaults already resolved. */
export interface RenderInput {
  role: Role;
  streams: readonly StreamSpec[];
  options: MediamtxOptions;
  rtspAddress: string;
  /** Undefined when HLS is off. */
  hlsAddress: string | undefined;
  /** Origin ingest listeners (resolved from `ingest` and the explicit addresses). */
  rtmpAddress: string;
  srtAddress: string;
  /** PROXY-protocol senders allowed on the RTSP listener (resolved default). */
  trustedProxies: readonly string[];
  /** The auth hook's URL (loopback, with its path token). */
  authUrl: string;
  /** Node role: the relay password embedded in the source URL. */
  relayPassword?: string;
  /** Node with TLS: one PEM file with the key and chain (HLS over HTTPS; RTSPS when `rtspsAddress`). */
  tlsFile?: string;
  /**
   * Node role: render the viewer path over a local `up/<stream>` (node-paths.ts): the loopback URL of
   * `up/<stream>` and the stream's tracks once known. Undefined: one path pulling the parent directly.
   */
  nodePaths?: {
    upstreamUrl: (stream: string) => string;
    tracks: (stream: string) => readonly OfflineTrack[] | undefined;
    /** Once tracks are known, on a MediaMTX that forwards: `up/<stream>` pushes into the viewer path (node-paths.ts). */
    forward?: (stream: string) => ForwardToViewers | undefined;
  };
}

/** `rtsp://relay:<pass>@<origin>/<stream>`: the node's pull source. Never log it. */
export function relaySourceUrl(host: string, port: number, stream: string, relayPassword: string): string {
  return `rtsp://${RELAY_USER}:${encodeURIComponent(relayPassword)}@${joinHostPort(host, port)}/${stream}`;
}

/** The path config of one stream for the role; the same object goes in the file and to the API. */
export function renderPath(input: Omit<RenderInput, 'streams' | 'authUrl'>, stream: string): Record<string, unknown> {
  const extra = Object.fromEntries(Object.entries(input.options.overrides.path).filter(([, v]) => v !== undefined));
  if (input.role === 'origin') return { source: 'publisher', ...extra };
  const relay = input.options.originRelay;
  if (!relay || !input.relayPassword) throw new TypeError('node role needs originRelay and the relay password');
  return {
    source: relaySourceUrl(relay.host, relay.port, stream, input.relayPassword),
    rtspTransport: 'tcp',
    sourceOnDemand: false,
    ...extra,
  };
}

/** Every MediaMTX path of one stream for the role (a node with `nodePaths`: the viewer path and `up/<stream>`). */
export function renderStreamPaths(input: Omit<RenderInput, 'streams' | 'authUrl'>, stream: string): Record<string, Record<string, unknown>> {
  const conf = renderPath(input, stream);
  if (input.role !== 'node' || !input.nodePaths) return { [stream]: conf };
  const extra = Object.fromEntries(Object.entries(input.options.overrides.path).filter(([, v]) => v !== undefined));
  const tracks = input.nodePaths.tracks(stream);
  const fwd = tracks ? input.nodePaths.forward?.(stream) : undefined;
  if (tracks && fwd) return { [upstreamPath(stream)]: renderForwardingUpstream(conf, fwd), [stream]: renderPublishedViewerPath(tracks, extra) };
  return {
    [upstreamPath(stream)]: conf,
    [stream]: renderViewerPath(input.nodePaths.upstreamUrl(upstreamPath(stream)), tracks, extra),
  };
}

/** The whole MediaMTX configuration as an object (every listener and auth key set explicitly). */
/**
 * LL-HLS timing of a node's HTTPS HLS (what Quest viewers play). hls.js and Android players such
 * as ExoPlayer start PART-HOLD-BACK behind live, a few part targets (MediaMTX derives it from the
 * part target), so the part length sets the latency: 100 ms parts instead of MediaMTX's 200 ms halve
 * it. Segments stay 1 s (a segment is cut at a keyframe, so it is never shorter than the publisher's
 * GOP whatever this says), and 7 of them: the least MediaMTX accepts for low-latency HLS. Overrides
 * (`overrides.global`) still win.
 */
const LL_HLS = { hlsVariant: 'lowLatency', hlsPartDuration: '100ms', hlsSegmentDuration: '1s', hlsSegmentCount: 7 } as const;

export function renderConfig(input: RenderInput): Record<string, unknown> {
  const o = input.options;
  const origin = input.role === 'origin';
  const overrides = Object.fromEntries(Object.entries(o.overrides.global).filter(([, v]) => v !== undefined));
  const conf: Record<string, unknown> = {
    logLevel: o.logLevel,
    logDestinations: ['stdout'],
    logStructured: false,
    readTimeout: o.readTimeout,
    writeTimeout: o.writeTimeout,
    // Every publish/read goes to the Haven's hook, which decides from the current secrets.
    authMethod: 'http',
    authHTTPAddress: input.authUrl,
    // Nothing skips the hook: the Control API and metrics need the plugin's internal credential.
    authHTTPExclude: [],
    api: true,
    apiAddress: o.apiAddress,
    // No browser origin may call the API or read metrics (an empty list matches no Origin, so no
    // Access-Control-Allow-Origin header is ever sent).
    apiAllowOrigins: [],
    apiTrustedProxies: [],
    metrics: o.metrics,
    metricsAddress: o.metricsAddress,
    metricsAllowOrigins: [],
    metricsTrustedProxies: [],
    pprof: false,
    playback: false,
    rtsp: true,
    rtspTransports: o.rtspTransports,
    rtspEncryption: 'no',
    rtspAddress: input.rtspAddress,
    rtspAuthMethods: ['basic'],
    rtspTrustedProxies: [...input.trustedProxies],
    rtmp: origin,
    ...(origin ? { rtmpAddress: input.rtmpAddress, rtmpEncryption: 'no' } : {}),
    srt: origin,
    ...(origin ? { srtAddress: input.srtAddress } : {}),
    hls: input.hlsAddress !== undefined,
    ...(input.hlsAddress !== undefined
      ? {
          hlsAddress: input.hlsAddress,
          hlsTrustedProxies: [...(o.hlsTrustedProxies ?? input.trustedProxies)],
          // An origin remuxes from the start so the first HLS viewer does not wait. A node does not: its
          // viewer path is recreated once its tracks are known (node-paths.ts), and MediaMTX's HLS server,
          // told the new path is ready while the old path's muxer still stood, never made a new one: every
          // playlist request then got 500 until MediaMTX restarted. A muxer made on request has no such race.
          hlsAlwaysRemux: origin,
          // One file holds key and chain: a renewal is one rename, which MediaMTX's certloader picks up.
          ...(input.tlsFile !== undefined ? { hlsEncryption: true, hlsServerKey: input.tlsFile, hlsServerCert: input.tlsFile, ...LL_HLS } : {}),
        }
      : {}),
    ...(input.tlsFile !== undefined && o.rtspsAddress !== undefined
      ? { rtspEncryption: 'optional', rtspsAddress: o.rtspsAddress, serverKey: input.tlsFile, serverCert: input.tlsFile }
      : {}),
    webrtc: false,
    moq: false,
    ...overrides,
    paths: Object.assign({}, ...input.streams.map((s) => renderStreamPaths(input, s.name))) as Record<string, unknown>,
  };
  return conf;
}

/**
 * YAML text of the config. YAML 1.1 rules (what MediaMTX's parser follows) so strings such as `no`
 * are quoted and stay strings.
 */
export function toYaml(conf: Record<string, unknown>): string {
  const header = '# Generated by @haven/plugin-mediamtx. Do not edit: it is rewritten on every change.\n';
  return header + stringify(conf, { version: '1.1', lineWidth: 0 });
}
