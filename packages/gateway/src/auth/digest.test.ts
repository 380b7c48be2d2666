import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestResponse, parseAuthParams, RtspAuthenticator } from './digest.js';
import { digestHa1 } from '@haven/core';
import { proxyV1Header } from '../rtsp/proxy-protocol.js';
import { FailureLimiter } from '../budget/rate-limit.js';

const creds = { user: 'viewer', password: 'Secret123456' };
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

function digestHeader(a: RtspAuthenticator, ip: string, o: { password?: string; uri?: string; nonce?: string; qop?: boolean } = {}) {
  const challenge = a.challenge(ip)[0] as string;
  const p = parseAuthParams(challenge.slice(7));
  const nonce = o.nonce ?? (p.get('nonce') as string);
  const uri = o.uri ?? 'rtsp://gw:8554/live';
  const realm = p.get('realm') as string;
  if (o.qop) {
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const ha1 = md5(`viewer:${realm}:${o.password ?? creds.password}`);
    const resp = md5(`${ha1}:${nonce}:00000001:abc:auth:${md5(`DESCRIBE:${uri}`)}`);
    return `Digest username="viewer", realm="${realm}", nonce="${nonce}", uri="${uri}", qop=auth, nc=00000001, cnonce="abc", response="${resp}"`;
  }
  const response = digestResponse({ user: 'viewer', password: o.password ?? creds.password, realm, nonce, method: 'DESCRIBE', uri });
  return `Digest username="viewer", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}"`;
}

describe('RtspAuthenticator', () => {
  it('checks Basic', () => {
    const a = new RtspAuthenticator();
    expect(a.verify('DESCRIBE', undefined, creds, '1.2.3.4')).toBe('missing');
    expect(a.verify('DESCRIBE', basic('viewer', 'Secret123456'), creds, '1.2.3.4')).toBe('ok');
    expect(a.verify('DESCRIBE', basic('viewer', 'nope'), creds, '1.2.3.4')).toBe('bad');
    expect(a.verify('DESCRIBE', basic('other', 'Secret123456'), creds, '1.2.3.4')).toBe('bad');
    expect(a.verify('DESCRIBE', 'Bearer x', creds, '1.2.3.4')).toBe('bad');
  });

  it('offers Digest then Basic, and checks Digest with and without qop', () => {
    const a = new RtspAuthenticator();
    const ch = a.challenge('1.2.3.4');
    expect(ch[0]).toMatch(/^Digest realm="Stream Haven", nonce="[0-9a-f]+"$/);
    expect(ch[1]).toBe('Basic realm="Stream Haven"');
    expect(a.verify('DESCRIBE', digestHeader(a, '1.2.3.4'), creds, '1.2.3.4')).toBe('ok');
    expect(a.verify('DESCRIBE', digestHeader(a, '1.2.3.4', { qop: true }), creds, '1.2.3.4')).toBe('ok');
    expect(a.verify('DESCRIBE', digestHeader(a, '1.2.3.4', { password: 'wrong' }), creds, '1.2.3.4')).toBe('bad');
  });

  it('checks Digest and Basic against an HA1 alone (an entry node holds no clear password)', () => {
    const a = new RtspAuthenticator();
    const ha1 = createHash('md5').update(`viewer:${a.realm}:${creds.password}`).digest('hex');
    const only = { user: 'viewer', password: '', ha1 };
    expect(a.verify('DESCRIBE', digestHeader(a, '1.2.3.4'), only, '1.2.3.4')).toBe('ok');
    expect(a.verify('DESCRIBE', digestHeader(a, '1.2.3.4', { qop: true }), only, '1.2.3.4')).toBe('ok');
    expect(a.verify('DESCRIBE', digestHeader(a, '1.2.3.4', { password: 'wrong' }), only, '1.2.3.4')).toBe('bad');
    expect(a.verify('DESCRIBE', basic('viewer', creds.password), only, '1.2.3.4')).toBe('ok');
    expect(a.verify('DESCRIBE', basic('viewer', ''), only, '1.2.3.4')).toBe('bad');
    expect(a.verify('DESCRIBE', basic('viewer', 'nope'), only, '1.2.3.4')).toBe('bad');
  });

  it('ties nonces to the IP and expires them (stale, not a failure)', () => {
    let now = 1_000_000;
    const a = new RtspAuthenticator({ now: () => now, nonceTtlMs: 1000 });
    const h = digestHeader(a, '1.2.3.4');
    expect(a.verify('DESCRIBE', h, creds, '5.6.7.8')).toBe('stale');
    now += 5000;
    expect(a.verify('DESCRIBE', h, creds, '1.2.3.4')).toBe('stale');
    expect(a.verify('DESCRIBE', digestHeader(a, '1.2.3.4', { nonce: 'f'.repeat(40) }), creds, '1.2.3.4')).toBe('stale');
  });

  it('parses quoted params with commas and escapes', () => {
    const p = parseAuthParams('username="a,b", realm="x \\"y\\"", nc=00000001, uri="rtsp://h/live"');
    expect(p.get('username')).toBe('a,b');
    expect(p.get('realm')).toBe('x "y"');
    expect(p.get('nc')).toBe('00000001');
  });
});

describe('FailureLimiter', () => {
  it('blocks an IP after the allowed failures within the window, per IP', () => {
    let now = 0;
    const l = new FailureLimiter({ maxFailures: 3, windowMs: 60_000, now: () => now });
    expect(l.fail('a')).toBe(false);
    expect(l.fail('a')).toBe(false);
    expect(l.blocked('b')).toBe(false);
    expect(l.fail('a')).toBe(true);
    expect(l.blocked('a')).toBe(true);
    now += 60_001;
    expect(l.blocked('a')).toBe(false);
    expect(l.size).toBe(0);
  });

  it('remembers a bounded number of IPs', () => {
    const l = new FailureLimiter({ maxFailures: 2, maxTracked: 100 });
    for (let i = 0; i < 1000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`);
    expect(l.size).toBe(100);
  });
});

describe('proxyV1Header', () => {
  it('writes TCP4, TCP6 and UNKNOWN lines', () => {
    expect(proxyV1Header('::ffff:203.0.113.9', 50000, '::ffff:127.0.0.1', 8554)).toBe('PROXY TCP4 203.0.113.9 127.0.0.1 50000 8554\r\n');
    expect(proxyV1Header('2001:db8::1', 1, '::1', 2)).toBe('PROXY TCP6 2001:db8::1 ::1 1 2\r\n');
    expect(proxyV1Header('2001:db8::1', 1, '127.0.0.1', 2)).toBe('PROXY UNKNOWN\r\n');
    expect(proxyV1Header('', 0, '', 0)).toBe('PROXY UNKNOWN\r\n');
  });
});

describe('Digest uri and nonce age', () => {
  it('refuses a response computed for another URI (replay), accepts the same URI with case/trailing-slash differences', () => {
    const a = new RtspAuthenticator();
    const h = digestHeader(a, '1.2.3.4', { uri: 'rtsp://gw:8554/live' });
    expect(a.verify('DESCRIBE', h, creds, '1.2.3.4', 'rtsp://gw:8554/live')).toBe('ok');
    expect(a.verify('DESCRIBE', h, creds, '1.2.3.4', 'RTSP://GW:8554/live/')).toBe('ok');
    expect(a.verify('DESCRIBE', h, creds, '1.2.3.4', 'rtsp://gw:8554/other')).toBe('bad');
    expect(a.verify('DESCRIBE', h, creds, '1.2.3.4', 'rtsp://evil:8554/live')).toBe('bad');
    const pathOnly = digestHeader(a, '1.2.3.4', { uri: '/live' });
    expect(a.verify('DESCRIBE', pathOnly, creds, '1.2.3.4', 'rtsp://gw:8554/live')).toBe('ok');
    expect(a.verify('DESCRIBE', pathOnly, creds, '1.2.3.4', 'rtsp://gw:8554/other')).toBe('bad');
  });

  it('a nonce older than its TTL (or from the future) is stale: challenged again, not counted as a failure', () => {
    let now = 1_000_000;
    const a = new RtspAuthenticator({ nonceTtlMs: 60_000, now: () => now });
    const h = digestHeader(a, '1.2.3.4');
    expect(a.verify('DESCRIBE', h, creds, '1.2.3.4', 'rtsp://gw:8554/live')).toBe('ok');
    now += 60_001;
    expect(a.verify('DESCRIBE', h, creds, '1.2.3.4', 'rtsp://gw:8554/live')).toBe('stale');
    now -= 120_000;
    expect(a.verify('DESCRIBE', h, creds, '1.2.3.4', 'rtsp://gw:8554/live')).toBe('stale');
    // A nonce signed for another address is not ours for this one.
    now += 60_000;
    expect(a.verify('DESCRIBE', h, creds, '5.6.7.8', 'rtsp://gw:8554/live')).toBe('stale');
  });
});

describe('routing state HA1', () => {
  it('lets a node check a Digest answer without the clear password', () => {
    const ha1 = digestHa1('viewer', 'Stream Haven', 'correct horse');
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const answer = digestResponse({ user: 'viewer', password: 'correct horse', realm: 'Stream Haven', nonce: 'n1', method: 'DESCRIBE', uri: 'rtsp://x/live' });
    expect(md5(`${ha1}:n1:${md5('DESCRIBE:rtsp://x/live')}`)).toBe(answer);
  });
});
