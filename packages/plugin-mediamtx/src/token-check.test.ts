import { describe, expect, it } from 'vitest';
import { ViewerTokenKey } from '@haven/core';
import { signViewerToken } from '@haven/gateway';
import { decide, type AuthPolicy } from './auth-policy.js';
import type { AuthRequest } from './auth-request.js';
import { SubnetMatcher } from './net.js';
import { checkViewerToken } from './token-check.js';

const secrets = { streamKey: 'StreamKey1234567890', viewerPassword: 'ViewerPass123456', relayPassword: 'RelayPass1234567890' };
// The entry that redirected signs with its own key; this node (`par`) accepts the keys of its routing state's entries.
const key = new ViewerTokenKey();
let accepted: string[] = [key.publicKey];
const nodeKey = new ViewerTokenKey();
nodeKey.acceptFrom(() => accepted);
const policy: AuthPolicy = {
  role: 'node',
  streams: new Set(['live', 'other']),
  viewerUser: 'viewer',
  publishAnyUser: false,
  publishProtocols: new Set(['rtmp']),
  readProtocols: new Set(['rtsp', 'hls']),
  relaySubnets: new SubnetMatcher([]),
  nodeName: 'par',
  tokenKey: nodeKey,
};
const read = (o: Partial<AuthRequest>): AuthRequest => ({ ip: '198.51.100.7', user: '', password: '', action: 'read', path: 'live', protocol: 'rtsp', ...o });

describe('viewer token at the node auth hook', () => {
  const token = signViewerToken(key, { ip: '198.51.100.7', stream: 'live', node: 'par' }, 60);

  it('allows a read with the token in the query (DESCRIBE and SETUP carry it) or as the haven-token password', () => {
    expect(decide(read({ query: `token=${token}` }), policy, secrets)).toEqual({ allow: true, as: 'viewer', via: 'token' });
    expect(decide(read({ user: 'haven-token', password: token }), policy, secrets)).toEqual({ allow: true, as: 'viewer', via: 'token' });
  });

  it('refuses a token replayed from another address, for another stream or node, expired, forged or truncated', () => {
    const deny = { allow: false, reason: 'bad-token', credentials: true };
    expect(decide(read({ ip: '198.51.100.8', query: `token=${token}` }), policy, secrets)).toEqual(deny);
    expect(decide(read({ path: 'other', query: `token=${token}` }), policy, secrets)).toEqual(deny);
    expect(decide(read({ query: `token=${token}` }), { ...policy, nodeName: 'fra' }, secrets)).toEqual(deny);
    expect(checkViewerToken(read({ query: `token=${token}` }), 'par', nodeKey, Date.now() + 120_000)).toBe('expired');
    expect(decide(read({ query: `token=${token.slice(0, 20)}` }), policy, secrets)).toEqual(deny);
    expect(decide(read({ query: 'token=v1.zz.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }), policy, secrets)).toEqual(deny);
  });

  it("refuses a token of an entry that left the routing state, and any token when this machine has no key", () => {
    const removed = new ViewerTokenKey();
    const t = signViewerToken(removed, { ip: '198.51.100.7', stream: 'live', node: 'par' }, 60);
    accepted = [key.publicKey, removed.publicKey];
    expect(decide(read({ query: `token=${t}` }), policy, secrets)).toEqual({ allow: true, as: 'viewer', via: 'token' });
    accepted = [key.publicKey];
    expect(decide(read({ query: `token=${t}` }), policy, secrets)).toEqual({ allow: false, reason: 'bad-token', credentials: true });
    expect(checkViewerToken(read({ query: `token=${t}` }), 'par', nodeKey)).toBe('unknown-signer');
    // Without a key no token is taken: it is checked as a password (and fails).
    const { tokenKey: _k, ...noKey } = policy;
    expect(decide(read({ user: 'haven-token', password: token }), noKey, secrets)).toMatchObject({ allow: false, reason: 'bad-credentials' });
  });

  it('never lets a token publish, and a request without one goes the usual way', () => {
    expect(decide(read({ action: 'publish', query: `token=${token}` }), policy, secrets)).toMatchObject({ allow: false });
    expect(decide(read({}), policy, secrets)).toMatchObject({ allow: false, reason: 'no-credentials' });
  });
});
