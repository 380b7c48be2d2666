import { addressIp, type StreamSpec } from '@haven/core';
import type { AuthPolicy } from './auth-policy.js';
import { ingestPath } from './audio-fix.js';
import { dialAddress, type SubnetMatcher } from './net.js';
import { upstreamPath } from './node-paths.js';
import type { MediaMtxServerInit } from './server-init.js';

/** What the server's auth policy is computed from; it is recomputed whenever one of these changes. */
export interface PolicyInput {
  init: MediaMtxServerInit;
  streams: readonly StreamSpec[];
  relaySubnets: SubnetMatcher;
  /** The internal media password (may appear in a child's argv). */
  internalPassword: string;
  /** The Control API and metrics client's password (never leaves the process). */
  apiPassword: string;
  /** Whether the audio fix runs (origin): its ingest paths are then publishable and readable internally. */
  audioFix: boolean;
  /** Node role: whether a stream's viewer path may be read now (see `NodeTracks.readable`). */
  readable: (stream: string) => boolean;
  viewerCheck?: ((user: string, password: string) => boolean | undefined) | undefined;
  relayCheck?: ((password: string) => boolean | undefined) | undefined;
}

/** Who may do what on this MediaMTX, from the options, the streams and the checks set now. Pure. */
export function makePolicy(p: PolicyInput): AuthPolicy {
  const { init } = p;
  const o = init.options;
  return {
    role: init.role,
    streams: new Set(p.streams.map((s) => s.name)),
    viewerUser: init.viewerUser,
    publishAnyUser: o.publishAnyUser,
    publishProtocols: new Set(o.publishProtocols),
    readProtocols: new Set(o.readProtocols),
    relaySubnets: p.relaySubnets,
    ...internalPolicy(p),
    ...(init.nodeName !== undefined ? { nodeName: init.nodeName } : {}),
    ...(init.role === 'node' ? { online: p.readable } : {}),
    ...(p.viewerCheck ? { viewerCheck: p.viewerCheck } : {}),
    ...(p.relayCheck ? { relayCheck: p.relayCheck } : {}),
    ...(init.tokenKey ? { tokenKey: init.tokenKey } : {}),
  };
}

/** The internal credential's rights, and the audio fix's ingest paths (see internal-access.ts). */
function internalPolicy(p: PolicyInput): Pick<AuthPolicy, 'internal' | 'ingestPaths'> {
  const names = p.streams.map((s) => s.name);
  const local = addressIp(dialAddress(p.init.rtspAddress));
  const credentials = { password: p.internalPassword, apiPassword: p.apiPassword, ...(local ? { localIps: new Set([local]) } : {}) };
  // A node's internal credential serves the Control API and metrics client, and the viewer path's
  // loopback pull of `up/<stream>`, or `up/<stream>`'s forward into the viewer path (node-paths.ts).
  if (p.init.role !== 'origin') {
    return { internal: { ...credentials, read: new Set(names.map(upstreamPath)), publish: new Set(names) } };
  }
  const ingest = p.audioFix ? names.map(ingestPath) : [];
  return {
    internal: { ...credentials, read: new Set([...names, ...ingest]), publish: new Set(p.audioFix ? names : []) },
    ...(p.audioFix ? { ingestPaths: new Set(ingest) } : {}),
  };
}
