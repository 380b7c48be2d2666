import { describe, expect, it } from 'vitest';
import { cidrContains, ipKind, parseCidr, parseIp, type ParsedCidr } from './ip.js';

const kind = (ip: string) => {
  const p = parseIp(ip);
  return p ? ipKind(p) : 'invalid';
};

describe('parseIp', () => {
  it('parses IPv4 and IPv6, and IPv4 carried in IPv6 becomes IPv4', () => {
    expect(parseIp('81.2.69.160')).toMatchObject({ version: 4, text: '81.2.69.160' });
    expect(parseIp('::ffff:81.2.69.160')).toMatchObject({ version: 4, text: '81.2.69.160' });
    expect(parseIp('::FFFF:5102:45a0')).toMatchObject({ version: 4, text: '81.2.69.160' });
    expect(parseIp('64:ff9b::81.2.69.160')).toMatchObject({ version: 4, text: '81.2.69.160' });
    expect(parseIp('2002:5102:45a0::1')).toMatchObject({ version: 4, text: '81.2.69.160' });
    expect(parseIp('2001:db8::1')).toMatchObject({ version: 6, text: '2001:db8::1' });
    expect(parseIp('fe80::1%eth0')).toMatchObject({ version: 6, text: 'fe80::1' });
    const full = parseIp('2001:0db8:0000:0000:0000:ff00:0042:8329');
    expect(full?.version === 6 && Buffer.from(full.bytes).toString('hex')).toBe('20010db8000000000000ff0000428329');
  });

  it('answers undefined for anything that is not an address, without throwing', () => {
    for (const bad of ['', ' ', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.4\n', '::ffff:999.0.0.1',
      'gggg::1', '1::2::3', '%eth0', 'a'.repeat(10_000), '\u0000', '١.٢.٣.٤', null, undefined, 42, {}, []]) {
      expect(() => parseIp(bad as never)).not.toThrow();
      expect(parseIp(bad as never), JSON.stringify(bad)?.slice(0, 20)).toBeUndefined();
    }
  });
});

describe('ipKind', () => {
  it('classifies special ranges so they never reach a database', () => {
    expect(kind('10.0.0.1')).toBe('private');
    expect(kind('172.31.255.255')).toBe('private');
    expect(kind('172.32.0.1')).toBe('public');
    expect(kind('192.168.0.1')).toBe('private');
    expect(kind('127.0.0.1')).toBe('loopback');
    expect(kind('169.254.1.1')).toBe('link-local');
    expect(kind('100.64.0.1')).toBe('shared');
    expect(kind('0.0.0.0')).toBe('unspecified');
    expect(kind('224.0.0.1')).toBe('multicast');
    expect(kind('255.255.255.255')).toBe('reserved');
    expect(kind('198.51.100.7')).toBe('documentation');
    expect(kind('::')).toBe('unspecified');
    expect(kind('::1')).toBe('loopback');
    expect(kind('fe80::1')).toBe('link-local');
    expect(kind('fd12:3456::1')).toBe('private');
    expect(kind('ff02::1')).toBe('multicast');
    expect(kind('2001:db8::1')).toBe('documentation');
    expect(kind('::ffff:10.0.0.1')).toBe('private');
    expect(kind('::ffff:127.0.0.1')).toBe('loopback');
    expect(kind('8.8.8.8')).toBe('public');
    expect(kind('2001:4860:4860::8888')).toBe('public');
  });
});

describe('parseCidr', () => {
  const ok = (s: string) => parseCidr(s) as ParsedCidr;
  it('parses IPv4, IPv6, single addresses and IPv4-mapped networks', () => {
    expect(ok('10.0.0.0/8')).toMatchObject({ version: 4, prefix: 8 });
    expect(ok('192.168.1.7')).toMatchObject({ version: 4, prefix: 32 });
    expect(ok('::ffff:10.0.0.0/104')).toMatchObject({ version: 4, prefix: 8 });
    expect(ok('fd00::/8')).toMatchObject({ version: 6, prefix: 8 });
    expect(ok('0.0.0.0/0')).toMatchObject({ version: 4, prefix: 0 });
  });

  it('refuses bad networks with a message that says why', () => {
    expect(parseCidr('10.0.0.1/8')).toEqual({ error: expect.stringMatching(/host bits set: did you mean 10\.0\.0\.0\/8/) });
    expect(parseCidr('10.0.0.0/33')).toEqual({ error: expect.stringMatching(/prefix length must be 0-32/) });
    expect(parseCidr('fd00::1/8')).toEqual({ error: expect.stringMatching(/host bits/) });
    expect(parseCidr('10.0.0.0/x')).toEqual({ error: expect.stringMatching(/must be a number/) });
    expect(parseCidr('lan')).toEqual({ error: expect.stringMatching(/not an IPv4 or IPv6 network/) });
  });

  it('matches addresses of the same family inside the network only', () => {
    const net = ok('192.168.0.0/16');
    expect(cidrContains(net, parseIp('192.168.44.1')!)).toBe(true);
    expect(cidrContains(net, parseIp('::ffff:192.168.44.1')!)).toBe(true);
    expect(cidrContains(net, parseIp('192.169.0.1')!)).toBe(false);
    expect(cidrContains(net, parseIp('fd00::1')!)).toBe(false);
    const v6 = ok('2001:db8:abc8::/45');
    expect(cidrContains(v6, parseIp('2001:db8:abcf:ffff::1')!)).toBe(true);
    expect(cidrContains(v6, parseIp('2001:db8:abd0::1')!)).toBe(false);
    expect(cidrContains(ok('0.0.0.0/0'), parseIp('8.8.8.8')!)).toBe(true);
  });
});
