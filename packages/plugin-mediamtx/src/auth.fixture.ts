/** Unit-test fixture: the secrets and the origin's auth policy the auth tests start from. Not exported from the package. */
import type { HavenSecrets } from '@haven/core';
import type { AuthPolicy } from './auth-policy.js';
import { SubnetMatcher } from './net.js';

export const SECRETS: HavenSecrets = { streamKey: 'KeyKeyKeyKey0001', viewerPassword: 'ViewViewView0001', relayPassword: 'RelayRelayRelay1' };

/** An origin serving `live` (RTMP/SRT in, RTSP/HLS out, relays from 10.77.0.0/24), with `over` on top. */
export function originPolicy(over: Partial<AuthPolicy> = {}): AuthPolicy {
  return {
    role: 'origin',
    streams: new Set(['live']),
    viewerUser: 'viewer',
    publishAnyUser: true,
    publishProtocols: new Set(['rtmp', 'srt']),
    readProtocols: new Set(['rtsp', 'hls']),
    relaySubnets: new SubnetMatcher(['10.77.0.0/24']),
    ...over,
  };
}
