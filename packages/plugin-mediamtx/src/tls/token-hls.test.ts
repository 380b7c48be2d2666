import { describe, expect, it } from 'vitest';
import { ViewerTokenKey } from '@haven/core';
import { signViewerToken } from '@haven/gateway';
import { decide, type AuthPolicy } from '../auth-policy.js';
import type { AuthRequest } from '../auth-request.js';
import { SubnetMatcher } from '../net.js';

// The HTTPS entry's 302 carries the token in the playlist URL; MediaMTX hands the query to the hook
// on the HLS multivariant playlist request (then ties the session to its own secret).
const secrets = { streamKey: 'StreamKey1234567890', viewerPassword: 'ViewerPass123456', relayPassword: 'RelayPass1234567890' };
// The HTTPS entry that redirects signs with its own key; node-b accepts it (an entry of its routing state).
const key = new ViewerTokenKey();
const nodeKey = new ViewerTokenKey();
nodeKey.acceptFrom(() => [key.publicKey]);
const policy: AuthPolicy = {
  role: 'node',
  streams: new Set(['live']),
  viewerUser: 'viewer',
  publishAnyUser: false,
  publishProtocols: new Set(['rtmp']),
  readProtocols: new Set(['rtsp', 'hls']),
  relaySubnets: new SubnetMatcher([]),
  nodeName: 'node-b',
  tokenKey: nodeKey,
};
const read = (o: Partial<AuthRequest>): AuthRequest => ({ ip: '198.51.100.7', user: '', password: '', action: 'read', path: 'live', protocol: 'hls', ...o });

describe('viewer token on HLS at the node auth hook', () => {
  const token = signViewerToken(key, { ip: '198.51.100.7', stream: 'live', node: 'node-b' }, 60);
  it('allows the HLS read that carries the token in its query; refuses it from another address or after expiry', () => {
    expect(decide(read({ query: `token=${token}&cookieCheck=1` }), policy, secrets)).toEqual({ allow: true, as: 'viewer', via: 'token' });
    const deny = { allow: false, reason: 'bad-token', credentials: true };
    expect(decide(read({ ip: '198.51.100.8', query: `token=${token}` }), policy, secrets)).toEqual(deny);
    const old = signViewerToken(key, { ip: '198.51.100.7', stream: 'live', node: 'node-b' }, 5, Date.now() - 60_000);
    expect(decide(read({ query: `token=${old}` }), policy, secrets)).toEqual(deny);
  });
});
