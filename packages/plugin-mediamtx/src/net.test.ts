import { describe, expect, it } from 'vitest';
import { dialAddress, isLoopbackHost, parseCidr, parseListen, sanitize, SubnetMatcher } from './net.js';

describe('net helpers', () => {
  it('parses subnets and matches IPv4, IPv4-mapped and IPv6 addresses', () => {
    expect(parseCidr('10.77.0.0/24')).toEqual({ address: '10.77.0.0', prefix: 24, family: 4 });
    expect(parseCidr('10.0.0.1')).toMatchObject({ prefix: 32 });
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('nope/8')).toBeUndefined();
    const m = new SubnetMatcher(['10.77.0.0/24', 'fd00::/8']);
    expect(m.contains('10.77.0.200')).toBe(true);
    expect(m.contains('::ffff:10.77.0.2')).toBe(true);
    expect(m.contains('10.77.1.1')).toBe(false);
    expect(m.contains('fd12::5')).toBe(true);
    expect(m.contains('garbage')).toBe(false);
    expect(() => new SubnetMatcher(['x'])).toThrow();
  });

  it('parses listen addresses and knows loopback', () => {
    expect(parseListen(':8554')).toEqual({ host: '', port: 8554 });
    expect(parseListen('[::1]:9997')).toEqual({ host: '::1', port: 9997 });
    expect(parseListen('127.0.0.1:0')).toBeUndefined();
    expect(parseListen('8554')).toBeUndefined();
    expect(isLoopbackHost('127.0.0.2')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(dialAddress(':8654')).toBe('127.0.0.1:8654');
    expect(dialAddress('0.0.0.0:8554')).toBe('127.0.0.1:8554');
    expect(dialAddress('[::]:8554')).toBe('[::1]:8554');
    expect(dialAddress('10.77.0.1:8654')).toBe('10.77.0.1:8654');
  });

  it('sanitize masks URL credentials, query secrets and known values', () => {
    expect(sanitize('source rtsp://relay:Secret1@10.0.0.1:8654/live failed')).toBe('source rtsp://[redacted]@10.0.0.1:8654/live failed');
    expect(sanitize('GET /live?user=publisher&pass=Key123 streamid=publish:live:u:p')).toBe('GET /live?user=publisher&pass=[redacted] streamid=[redacted]');
    expect(sanitize('the key is KeyKeyKey123', ['KeyKeyKey123'])).toBe('the key is [redacted]');
  });
});
