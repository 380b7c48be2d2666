import { describe, expect, it } from 'vitest';
import { decide, FailureCounter, type AuthPolicy } from './auth-policy.js';
import { secretEquals, type AuthRequest } from './auth-request.js';
import { originPolicy, SECRETS } from './auth.fixture.js';

const secrets = SECRETS;
const policy = originPolicy;

const req = (over: Partial<AuthRequest>): AuthRequest => ({
  ip: '203.0.113.5',
  user: '',
  password: '',
  action: 'read',
  path: 'live',
  protocol: 'rtsp',
  id: null,
  ...over,
});

describe('decide', () => {
  it('publisher: the stream key with user publisher, or any user when publishAnyUser', () => {
    expect(decide(req({ action: 'publish', protocol: 'rtmp', user: 'publisher', password: secrets.streamKey }), policy(), secrets)).toEqual({ allow: true, as: 'publisher' });
    expect(decide(req({ action: 'publish', protocol: 'srt', user: 'obs', password: secrets.streamKey }), policy(), secrets).allow).toBe(true);
    expect(decide(req({ action: 'publish', protocol: 'rtmp', user: '', password: secrets.streamKey }), policy(), secrets).allow).toBe(true);
    expect(decide(req({ action: 'publish', protocol: 'rtmp', user: 'obs', password: secrets.streamKey }), policy({ publishAnyUser: false }), secrets)).toMatchObject({ allow: false, reason: 'bad-credentials' });
  });

  it('publish is refused with a wrong key, another secret, the relay or viewer user, a disabled protocol, on a node', () => {
    const p = (o: Partial<AuthRequest>, pol = policy()) => decide(req({ action: 'publish', protocol: 'rtmp', user: 'publisher', ...o }), pol, secrets);
    expect(p({ password: 'nope' })).toMatchObject({ allow: false, reason: 'bad-credentials', credentials: true });
    expect(p({ password: secrets.viewerPassword })).toMatchObject({ allow: false });
    expect(p({ user: 'relay', password: secrets.relayPassword, ip: '10.77.0.2' })).toMatchObject({ allow: false });
    expect(p({ user: 'relay', password: secrets.streamKey })).toMatchObject({ allow: false, reason: 'bad-credentials' });
    expect(p({ user: 'viewer', password: secrets.streamKey })).toMatchObject({ allow: false, reason: 'bad-credentials' });
    expect(p({ password: secrets.streamKey, protocol: 'rtsp' })).toMatchObject({ allow: false, reason: 'protocol' });
    expect(p({ password: secrets.streamKey }, policy({ role: 'node' }))).toMatchObject({ allow: false, reason: 'role' });
    expect(p({ password: secrets.streamKey, path: 'other' })).toMatchObject({ allow: false, reason: 'unknown-path' });
  });

  it('viewer: user and password must both match; protocols limited', () => {
    expect(decide(req({ user: 'viewer', password: secrets.viewerPassword }), policy(), secrets)).toEqual({ allow: true, as: 'viewer' });
    expect(decide(req({ user: 'viewer', password: secrets.viewerPassword, protocol: 'hls' }), policy(), secrets).allow).toBe(true);
    expect(decide(req({ user: 'viewer', password: secrets.viewerPassword, protocol: 'srt' }), policy(), secrets)).toMatchObject({ reason: 'protocol' });
    expect(decide(req({ user: 'other', password: secrets.viewerPassword }), policy(), secrets)).toMatchObject({ reason: 'bad-credentials' });
    expect(decide(req({ user: 'viewer', password: secrets.streamKey }), policy(), secrets)).toMatchObject({ reason: 'bad-credentials' });
    expect(decide(req({ user: 'viewer', password: secrets.viewerPassword }), policy({ role: 'node' }), secrets).allow).toBe(true);
  });

  it('viewer on an entry node: a viewerCheck (the HA1) decides in place of the stored password; no verdict falls back to it', () => {
    const check = (user: string, password: string) => user === 'viewer' && password === 'from-ha1';
    expect(decide(req({ user: 'viewer', password: 'from-ha1', protocol: 'hls' }), policy({ viewerCheck: check }), secrets)).toEqual({ allow: true, as: 'viewer' });
    expect(decide(req({ user: 'viewer', password: secrets.viewerPassword }), policy({ viewerCheck: check }), secrets)).toMatchObject({ allow: false, reason: 'bad-credentials' });
    expect(decide(req({ user: 'viewer', password: secrets.viewerPassword }), policy({ viewerCheck: () => undefined }), secrets)).toEqual({ allow: true, as: 'viewer' });
  });

  it('no credentials: denied but not counted as a failure (RTSP asks first without them)', () => {
    expect(decide(req({}), policy(), secrets)).toEqual({ allow: false, reason: 'no-credentials', credentials: false });
  });

  it('relay: only RTSP, only from the relay subnets (the origin, and a node feeding its relay children)', () => {
    const r = (o: Partial<AuthRequest>, pol = policy()) => decide(req({ user: 'relay', password: secrets.relayPassword, ip: '10.77.0.9', ...o }), pol, secrets);
    expect(r({})).toEqual({ allow: true, as: 'relay' });
    expect(r({ ip: '::ffff:10.77.0.9' }).allow).toBe(true);
    expect(r({ ip: '10.77.1.9' })).toMatchObject({ reason: 'subnet' });
    expect(r({ ip: '127.0.0.1' })).toMatchObject({ reason: 'subnet' });
    expect(r({ protocol: 'hls' })).toMatchObject({ reason: 'protocol' });
    expect(r({ password: 'wrong' })).toMatchObject({ reason: 'bad-credentials' });
    expect(r({}, policy({ role: 'node' }))).toEqual({ allow: true, as: 'relay' });
    expect(r({ ip: '198.51.100.7' }, policy({ role: 'node' }))).toMatchObject({ reason: 'subnet' });
    expect(r({ protocol: 'hls' }, policy({ role: 'node' }))).toMatchObject({ reason: 'protocol' });
  });

  it("relay with per-node credentials: the relay check decides (a removed node's credential, or the shared password, is refused)", () => {
    let current = new Set(['alice-own-credential-0123456789', 'bob-own-credential-0123456789']);
    const pol = policy({ relayCheck: (pw) => current.has(pw) });
    const r = (password: string) => decide(req({ user: 'relay', password, ip: '10.77.0.9' }), pol, secrets);
    expect(r('alice-own-credential-0123456789')).toEqual({ allow: true, as: 'relay' });
    expect(r(secrets.relayPassword)).toMatchObject({ allow: false, reason: 'bad-credentials' });
    current = new Set(['bob-own-credential-0123456789']);
    expect(r('alice-own-credential-0123456789')).toMatchObject({ allow: false, reason: 'bad-credentials' });
    expect(r('bob-own-credential-0123456789')).toEqual({ allow: true, as: 'relay' });
    // Still RTSP only and from the relay subnets.
    expect(decide(req({ user: 'relay', password: 'bob-own-credential-0123456789', ip: '198.51.100.7' }), pol, secrets)).toMatchObject({ reason: 'subnet' });
  });

  it('api and metrics: only the internal credential, never a viewer, publisher or relay one', () => {
    const internal = { user: 'haven-internal', password: 'InternalMedia0123456789', apiPassword: 'InternalApi0123456789', read: new Set<string>(), publish: new Set<string>() };
    for (const action of ['api', 'metrics']) {
      const r = (user: string, password: string) => decide(req({ action, user, password, path: '', protocol: '' }), { ...policy(), internal }, secrets);
      expect(r(internal.user, internal.apiPassword)).toEqual({ allow: true, as: 'internal' });
      // The media password (in ffmpeg's argv, readable by local users) opens no API.
      expect(r(internal.user, internal.password)).toMatchObject({ allow: false, reason: 'bad-credentials' });
      expect(r('', '')).toMatchObject({ allow: false, reason: 'no-credentials' });
      expect(r('viewer', secrets.viewerPassword)).toMatchObject({ allow: false, reason: 'bad-credentials' });
      expect(r('relay', secrets.relayPassword)).toMatchObject({ allow: false, reason: 'bad-credentials' });
      expect(r(internal.user, secrets.streamKey)).toMatchObject({ allow: false, reason: 'bad-credentials' });
      // Without an internal credential in the policy nobody gets in.
      expect(decide(req({ action, user: internal.user, password: internal.apiPassword }), policy(), secrets)).toMatchObject({ allow: false });
    }
  });

  it('denies actions it does not handle (playback, pprof, anything else)', () => {
    for (const action of ['playback', 'pprof', 'PUBLISH', '']) {
      expect(decide(req({ action, user: 'viewer', password: secrets.viewerPassword }), policy(), secrets)).toMatchObject({ allow: false, reason: 'unknown-action' });
    }
  });

  it('uses whatever secrets it is given (rotation takes effect on the next call)', () => {
    const rotated = { ...secrets, viewerPassword: 'NewNewNewNew0002' };
    const r = req({ user: 'viewer', password: secrets.viewerPassword });
    expect(decide(r, policy(), secrets).allow).toBe(true);
    expect(decide(r, policy(), rotated).allow).toBe(false);
    expect(decide(req({ user: 'viewer', password: rotated.viewerPassword }), policy(), rotated).allow).toBe(true);
  });
});

describe('secretEquals', () => {
  it('compares exactly, never matches an empty expected secret', () => {
    expect(secretEquals('abc', 'abc')).toBe(true);
    expect(secretEquals('abc', 'abd')).toBe(false);
    expect(secretEquals('abc', 'abcd')).toBe(false);
    expect(secretEquals('', '')).toBe(false);
  });
});

describe('FailureCounter', () => {
  it('counts per IP inside a sliding window', () => {
    let now = 1_000_000;
    const c = new FailureCounter(60_000, 100, 1000, () => now);
    c.record('198.51.100.1');
    c.record('::ffff:198.51.100.1');
    c.record('198.51.100.2');
    expect(c.count('198.51.100.1')).toBe(2);
    now += 30_000;
    c.record('198.51.100.1');
    expect(c.count('198.51.100.1')).toBe(3);
    now += 31_000;
    expect(c.count('198.51.100.1')).toBe(1);
    expect(c.count('198.51.100.2')).toBe(0);
    expect(c.snapshot()).toEqual([{ ip: '198.51.100.1', count: 1, lastAt: 1_030_000 }]);
  });

  it('is bounded in addresses and entries per address', () => {
    const c = new FailureCounter(60_000, 3, 5, () => 1);
    for (let i = 0; i < 10; i++) c.record(`192.0.2.${i}`);
    expect(c.snapshot().map((e) => e.ip).sort()).toEqual(['192.0.2.7', '192.0.2.8', '192.0.2.9']);
    for (let i = 0; i < 20; i++) c.record('192.0.2.9');
    expect(c.count('192.0.2.9')).toBe(5);
  });
});
