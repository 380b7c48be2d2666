import { describe, expect, it } from 'vitest';
import { checkNodeAddress, contains, firstHost, parseSubnet } from './subnet.js';

describe('parseSubnet', () => {
  it('accepts the default and canonicalises', () => {
    const s = parseSubnet('10.77.0.0/24');
    expect(s).toMatchObject({ cidr: '10.77.0.0/24', prefix: 24, size: 256 });
    expect(firstHost(s)).toBe('10.77.0.1');
    expect(contains(s, '10.77.0.200')).toBe(true);
    expect(contains(s, '10.77.1.1')).toBe(false);
    expect(parseSubnet('192.168.50.0/29').size).toBe(8);
  });

  it.each([
    ['not a cidr', '10.77.0.0', /expected an IPv4 subnet/],
    ['bad octet', '10.300.0.0/24', /expected an IPv4 subnet/],
    ['host bits', '10.77.0.5/24', /did you mean 10\.77\.0\.0\/24/],
    ['too small', '10.77.0.0/31', /expected \/8 to \/30/],
    ['too large', '10.0.0.0/7', /expected \/8 to \/30/],
    ['public', '8.8.8.0/24', /not a private range/],
    ['ipv6', 'fd00::/64', /expected an IPv4 subnet/],
  ])('refuses %s', (_l, cidr, re) => {
    expect(() => parseSubnet(cidr)).toThrow(re);
  });
});

describe('checkNodeAddress', () => {
  const s = parseSubnet('10.77.0.0/24');
  it('accepts bare and /32', () => {
    expect(checkNodeAddress(s, '10.77.0.9', '10.77.0.1', 'x')).toBe('10.77.0.9');
    expect(checkNodeAddress(s, '10.77.0.9/32', '10.77.0.1', 'x')).toBe('10.77.0.9');
  });
  it.each([
    ['10.78.0.9', 'ADDRESS_OUTSIDE_SUBNET', /outside the VPN subnet 10\.77\.0\.0\/24/],
    ['10.77.0.0', 'ADDRESS_RESERVED', /network or broadcast/],
    ['10.77.0.255', 'ADDRESS_RESERVED', /network or broadcast/],
    ['10.77.0.1', 'ADDRESS_RESERVED', /origin's own/],
    ['10.77.0.9/24', 'ADDRESS_OUTSIDE_SUBNET', /expected one IPv4 address/],
    ['banana', 'ADDRESS_OUTSIDE_SUBNET', /expected one IPv4 address/],
  ])('refuses %s', (ip, code, re) => {
    expect(() => checkNodeAddress(s, ip, '10.77.0.1', 'node "a" address')).toThrow(re);
    try {
      checkNodeAddress(s, ip, '10.77.0.1', 'x');
    } catch (err) {
      expect((err as { code: string }).code).toBe(code);
    }
  });
});
