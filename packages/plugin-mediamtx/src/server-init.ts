import {
  streamNameSchema,
  type HavenEmitter,
  type HavenSecrets,
  type Logger,
  type StreamSpec,
  type ViewerTokenKey,
} from '@haven/core';
import { mtxError } from './errors.js';
import type { MediamtxOptions } from './options.js';
import type { NodeTracks } from './node-tracks.js';
import type { Role } from './render.js';

/** What a `MediaMtxServer` is made from: the plugin resolves it from the options and the Haven. */
export interface MediaMtxServerInit {
  role: Role;
  options: MediamtxOptions;
  /** Resolved MediaMTX executable. */
  binary: string;
  /** Resolved ffmpeg executable for the audio fix. Default `ffmpeg`. */
  ffmpegBinary?: string;
  viewerUser: string;
  /** This machine's name in the Haven (viewer tokens are bound to it). */
  nodeName?: string;
  rtspAddress: string;
  /** Undefined when HLS is off. */
  hlsAddress: string | undefined;
  rtmpAddress: string;
  srtAddress: string;
  /** PROXY-protocol senders trusted on the RTSP listener. */
  trustedProxies: readonly string[];
  /** Node with TLS: the key+chain PEM file MediaMTX serves HTTPS with (see tls/store.ts). */
  tlsFile?: string;
  /** Failed logins per address per minute before the hook refuses it outright. Default 10. */
  maxAuthFailures?: number;
  /** The plugin's own folder, e.g. `<stateDir>/mediamtx` (created 0700). */
  workDir: string;
  streams: readonly StreamSpec[];
  secrets: HavenSecrets;
  /** Verifies the gateways' viewer tokens (see `AuthPolicy.tokenKey`). Absent: no token is accepted. */
  tokenKey?: ViewerTokenKey;
  logger: Logger;
  events?: HavenEmitter;
}

/** The streams, checked and without repeats. */
export function checkStreams(streams: readonly StreamSpec[]): StreamSpec[] {
  const seen = new Set<string>();
  const out: StreamSpec[] = [];
  for (const s of streams) {
    if (!streamNameSchema.safeParse(s?.name).success) {
      throw mtxError('STREAM_INVALID', `stream name ${JSON.stringify(s?.name)} is not valid: expected 1-64 chars of A-Z a-z 0-9 _ -`);
    }
    if (!seen.has(s.name)) out.push({ name: s.name });
    seen.add(s.name);
  }
  return out;
}

/** What the config renderer needs of a server now: its init, the relay parent (node role), the relay password, the learned tracks. */
export function renderInput(
  init: MediaMtxServerInit,
  now: {
    upstream: { host: string; port: number } | undefined;
    relayPassword: string;
    internalUrl: (path: string) => string;
    tracks: NodeTracks;
    /** Where `up/<stream>` forwards (a MediaMTX that can; undefined: the viewer path pulls it), and whether it does now. */
    forward: (stream: string) => { url: string; attached: boolean } | undefined;
  },
) {
  return {
    role: init.role,
    options: now.upstream ? { ...init.options, originRelay: now.upstream } : init.options,
    rtspAddress: init.rtspAddress,
    hlsAddress: init.hlsAddress,
    rtmpAddress: init.rtmpAddress,
    srtAddress: init.srtAddress,
    trustedProxies: init.trustedProxies,
    relayPassword: now.relayPassword,
    ...(init.tlsFile !== undefined ? { tlsFile: init.tlsFile } : {}),
    ...(init.role === 'node' ? { nodePaths: { upstreamUrl: now.internalUrl, tracks: (stream: string) => now.tracks.get(stream), forward: now.forward } } : {}),
  };
}
