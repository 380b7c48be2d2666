import { isIP } from 'node:net';
import { wgError } from './errors.js';

/** An IPv4 subnet in CIDR form, with the numbers address allocation needs. */
export interface Subnet {
  /** Canonical text, e.g. `10.77.0.0/24`. */
  cidr: string;
  prefix: number;
  /** Network address as an unsigned 32-bit integer. */
  network: number;
  /** Number of addresses, network and broadcast included. */
  size: number;
}

/** Private ranges a VPN subnet may come from (RFC 1918 and RFC 6598 shared space). */
const PRIVATE_RANGES: Array<[string, number]> = [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['100.64.0.0', 10],
];

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  return (((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function inRange(n: number, network: number, prefix: number): boolean {
  return ((n & maskOf(prefix)) >>> 0) === network;
}

/**
 * Parse and check a VPN subnet: IPv4, host bits zero, prefix /8-/30, inside a private range (a
 * public range routed into the tunnel would hijack real traffic).
 */
export function parseSubnet(cidr: string): Subnet {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(String(cidr).trim());
  if (!m || isIP(m[1]!) !== 4) {
    throw wgError('SUBNET_INVALID', `subnet: expected an IPv4 subnet such as 10.77.0.0/24, got "${cidr}"`);
  }
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 30) {
    throw wgError('SUBNET_INVALID', `subnet: prefix /${prefix} is not usable; expected /8 to /30 (e.g. 10.77.0.0/24), got "${cidr}"`);
  }
  const addr = ipToInt(m[1]!);
  const network = (addr & maskOf(prefix)) >>> 0;
  if (network !== addr) {
    throw wgError('SUBNET_INVALID', `subnet: ${cidr} has host bits set; did you mean ${intToIp(network)}/${prefix}?`);
  }
  if (!PRIVATE_RANGES.some(([base, p]) => p <= prefix && inRange(network, ipToInt(base), p))) {
    throw wgError(
      'SUBNET_INVALID',
      `subnet: ${cidr} is not a private range; choose one inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10`,
    );
  }
  return { cidr: `${intToIp(network)}/${prefix}`, prefix, network, size: 2 ** (32 - prefix) };
}

export function contains(subnet: Subnet, ip: string): boolean {
  return isIP(ip) === 4 && inRange(ipToInt(ip), subnet.network, subnet.prefix);
}

/** The first host address: the origin's, by convention (`10.77.0.1`). */
export function firstHost(subnet: Subnet): string {
  return intToIp(subnet.network + 1);
}

/** Accept `10.77.0.5` or `10.77.0.5/32`; returns the bare address. */
export function parseHostAddress(input: string, what: string): string {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?$/.exec(String(input).trim());
  if (!m || isIP(m[1]!) !== 4 || (m[2] !== undefined && m[2] !== '32')) {
    throw wgError('ADDRESS_OUTSIDE_SUBNET', `${what}: expected one IPv4 address such as 10.77.0.5 (or 10.77.0.5/32), got "${input}"`);
  }
  return m[1]!;
}

/**
 * Check that `ip` can be given to a node: inside the subnet, not the network, broadcast or origin
 * address. Returns the address.
 */
export function checkNodeAddress(subnet: Subnet, ip: string, originAddress: string, what: string): string {
  const addr = parseHostAddress(ip, what);
  if (!contains(subnet, addr)) {
    throw wgError('ADDRESS_OUTSIDE_SUBNET', `${what}: ${addr} is outside the VPN subnet ${subnet.cidr}; pick an address inside it or leave it out to get one allocated`, {
      details: { address: addr, subnet: subnet.cidr },
    });
  }
  const n = ipToInt(addr);
  if (n === subnet.network || n === subnet.network + subnet.size - 1) {
    throw wgError('ADDRESS_RESERVED', `${what}: ${addr} is the network or broadcast address of ${subnet.cidr}`, { details: { address: addr } });
  }
  if (addr === originAddress) {
    throw wgError('ADDRESS_RESERVED', `${what}: ${addr} is the origin's own VPN address`, { details: { address: addr } });
  }
  return addr;
}
