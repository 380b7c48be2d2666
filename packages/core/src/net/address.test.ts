import { describe, expect, it } from 'vitest';
import { addressIp, joinHostPort, normalizeIp, parseHostPort, splitHostPort } from './address.js';

describe('address helpers', () => {
  it('unmaps IPv4-mapped addresses and leaves the rest', () => {
    expect(normalizeIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeIp('::FFFF:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeIp('::ffff:0a00:0001')).toBe('::ffff:0a00:0001');
    expect(normalizeIp('2001:db8::1')).toBe('2001:db8::1');
    expect(normalizeIp(undefined)).toBe('');
  });

  it('splits listen addresses as written', () => {
    expect(parseHostPort(':8554')).toEqual({ host: '', port: 8554 });
    expect(parseHostPort('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseHostPort('[::1]:9997')).toEqual({ host: '::1', port: 9997 });
    expect(parseHostPort('[fe80::1]')).toEqual({ host: 'fe80::1', port: undefined });
    expect(parseHostPort('2001:db8::1')).toEqual({ host: '2001:db8::1', port: undefined });
    expect(parseHostPort('example.org')).toEqual({ host: 'example.org', port: undefined });
    expect(parseHostPort('host:http')).toEqual({ host: 'host', port: undefined });
  });

  it('makes a dialable pair of a listen address', () => {
    expect(splitHostPort(':8554', 1)).toEqual({ host: '127.0.0.1', port: 8554 });
    expect(splitHostPort('[::]:8554', 1)).toEqual({ host: '::1', port: 8554 });
    expect(splitHostPort('10.0.0.2', 554)).toEqual({ host: '10.0.0.2', port: 554 });
  });

  it('finds the IP of an address and joins host and port back', () => {
    expect(addressIp('10.77.0.1:8654')).toBe('10.77.0.1');
    expect(addressIp('[::1]:8654')).toBe('::1');
    expect(addressIp('localhost:8654')).toBeUndefined();
    expect(addressIp(':8654')).toBeUndefined();
    expect(joinHostPort('::1', 80)).toBe('[::1]:80');
    expect(joinHostPort('[::1]', 80)).toBe('[::1]:80');
    expect(joinHostPort('10.0.0.1', '8554')).toBe('10.0.0.1:8554');
  });
});
