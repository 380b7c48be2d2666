import { readFileSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** A little-endian hex IPv4 address as /proc/net/route writes it (`0100A8C0` = 192.168.0.1). */
function hexToIpv4(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => ((n << 8) | Number(o)) >>> 0, 0);
}

/**
 * The IPv4 default route from the text of /proc/net/route (Linux): its interface and gateway, the one
 * with the lowest metric when there are several. `undefined` without one.
 */
export function defaultRoute(routeTable: string): { iface: string; gateway?: string } | undefined {
  let best: { iface: string; gateway?: string; metric: number } | undefined;
  for (const line of routeTable.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, gw, flags, , , metric, mask] = f as [string, string, string, string, string, string, string, string];
    const up = (Number.parseInt(flags, 16) & 0x1) === 1;
    if (!up || dest !== '00000000' || mask !== '00000000') continue;
    const m = Number(metric);
    if (best && best.metric <= m) continue;
    const gateway = hexToIpv4(gw);
    best = { iface, metric: m, ...(gateway && gateway !== '0.0.0.0' ? { gateway } : {}) };
  }
  return best && { iface: best.iface, ...(best.gateway ? { gateway: best.gateway } : {}) };
}

/**
 * This machine's LAN address, for OBS on another machine of the LAN: the IPv4 address of the interface
 * that holds the default route (the one in the gateway's subnet, when it has several). Without a
 * default route, the first non-loopback IPv4 address. `undefined` when there is none.
 */
export function lanAddress(routeTable: string | undefined, interfaces: Interfaces): string | undefined {
  const v4 = (list: NetworkInterfaceInfo[] | undefined) => (list ?? []).filter((a) => a.family === 'IPv4' && !a.internal);
  const route = routeTable ? defaultRoute(routeTable) : undefined;
  if (route) {
    const own = v4(interfaces[route.iface]);
    const gw = route.gateway;
    const inSubnet = gw ? own.find((a) => ((ipv4ToInt(a.address) ^ ipv4ToInt(gw)) & ipv4ToInt(a.netmask)) === 0) : undefined;
    const pick = inSubnet ?? own[0];
    if (pick) return pick.address;
  }
  return Object.values(interfaces).flatMap((l) => v4(l))[0]?.address;
}

/** `lanAddress` of this machine (/proc/net/route where there is one, and its interfaces). */
export function detectLanAddress(): string | undefined {
  let table: string | undefined;
  try {
    table = readFileSync('/proc/net/route', 'utf8');
  } catch {
    table = undefined;
  }
  return lanAddress(table, networkInterfaces());
}

/** The IPv4 default gateway of this machine (/proc/net/route); in a container, the host. */
export function defaultGateway(): string | undefined {
  try {
    return defaultRoute(readFileSync('/proc/net/route', 'utf8'))?.gateway;
  } catch {
    return undefined;
  }
}
