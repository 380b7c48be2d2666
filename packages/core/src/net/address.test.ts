import { describe, expect, it } from 'vitest';
import { addressIp, joinHostPort, normalizeIp, parseHostPort, splitHostPort } from './address.js';

describe('address helpers', () => {
  it.each([
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['::FFFF:10.0.0.1', '10.0.0.1'],
    ['::ffff:0a00:0001', '::ffff:0a00:0001'],
    ['2001:db8::1', '2001:db8::1'],
    [undefined, ''],
  ])('normalizeIp(%s) is %s: an IPv4-mapped address is its IPv4 address', (given, want) => {
    expect(normalizeIp(given)).toBe(want);
  });

  it.each([
    [':8554', '', 8554],
    ['0.0.0.0:80', '0.0.0.0', 80],
    ['[::1]:9997', '::1', 9997],
    ['[fe80::1]', 'fe80::1', undefined],
    ['2001:db8::1', '2001:db8::1', undefined],
    ['example.org', 'example.org', undefined],
    ['host:http', 'host', undefined],
  ])('parseHostPort(%s) keeps the host as written: %s, port %s', (given, host, port) => {
    expect(parseHostPort(given)).toEqual({ host, port });
  });

  it('makes a dialable pair of a listen address, and joins host and port back', () => {
    expect([splitHostPort(':8554', 1), splitHostPort('[::]:8554', 1), splitHostPort('10.0.0.2', 554)]).toEqual([
      { host: '127.0.0.1', port: 8554 },
      { host: '::1', port: 8554 },
      { host: '10.0.0.2', port: 554 },
    ]);
    expect([joinHostPort('::1', 80), joinHostPort('[::1]', 80), joinHostPort('10.0.0.1', '8554')]).toEqual(['[::1]:80', '[::1]:80', '10.0.0.1:8554']);
  });

  it('finds the IP of an address, and nothing where its host is a name or absent', () => {
    expect(['10.77.0.1:8654', '[::1]:8654', 'localhost:8654', ':8654'].map(addressIp)).toEqual(['10.77.0.1', '::1', undefined, undefined]);
  });
});
