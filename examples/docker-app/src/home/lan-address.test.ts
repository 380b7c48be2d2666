import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultRoute, lanAddress } from './lan-address.js';

// /proc/net/route as Linux writes it: little-endian hex, the default route with destination and mask 0.
const TABLE = [
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
  'wg0\t0000A80A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
  'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
  'eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
  'eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0',
].join('\n');

const addr = (address: string, netmask = '255.255.255.0', internal = false): NetworkInterfaceInfo =>
  ({ address, netmask, family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: `${address}/24` }) as NetworkInterfaceInfo;

const IFACES = {
  lo: [addr('127.0.0.1', '255.0.0.0', true)],
  wg0: [addr('10.168.0.1')],
  wlan0: [addr('192.168.1.40')],
  // Two addresses: the one in the gateway's subnet (192.168.0.0/24) is the LAN address.
  eth0: [addr('172.16.5.2'), addr('192.168.0.23'), { ...addr('fe80::1'), family: 'IPv6' } as NetworkInterfaceInfo],
};

describe('LAN address of a private origin (OBS on another machine)', () => {
  it('reads the default route with the lowest metric from /proc/net/route', () => {
    expect(defaultRoute(TABLE)).toEqual({ iface: 'eth0', gateway: '192.168.0.1' });
    expect(defaultRoute(TABLE.split('\n').slice(0, 2).join('\n'))).toBeUndefined();
  });

  it("names the default route interface's address in the gateway's subnet, never loopback, a VPN or IPv6", () => {
    expect(lanAddress(TABLE, IFACES)).toBe('192.168.0.23');
  });

  it('a default route that is down is skipped; without one, the first non-loopback IPv4 address', () => {
    const down = TABLE.replace('eth0\t00000000\t0100A8C0\t0003', 'eth0\t00000000\t0100A8C0\t0002');
    expect(lanAddress(down, IFACES)).toBe('192.168.1.40');
    expect(lanAddress(undefined, { lo: IFACES.lo, eth0: [addr('192.168.0.23')] })).toBe('192.168.0.23');
    expect(lanAddress(undefined, { lo: IFACES.lo })).toBeUndefined();
  });
});
