// One home for the address helpers every package uses: IPv4-mapped addresses, `host:port` as listeners
// and dial addresses write it, base URLs, and the groups a sender is accounted to.
import { isIP } from 'node:net';

/** `::ffff:1.2.3.4` -> `1.2.3.4`; other addresses unchanged. Sockets on a dual-stack listener report mapped forms. */
export function normalizeIp(ip: string | undefined): string {
  if (!ip) return '';
  const lower = ip.toLowerCase();
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4) return lower.slice(7);
  return ip;
}

/** Split `host:port`, `[v6]:port` or `:port`; an empty or wildcard host becomes loopback (a listener's address is not dialable). */
export function splitHostPort(value: string, defaultPort: number): { host: string; port: number } {
  let host = value;
  let port = defaultPort;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (v6) {
    host = v6[1] ?? '';
    if (v6[2]) port = Number(v6[2]);
  } else {
    const i = value.lastIndexOf(':');
    if (i >= 0 && value.indexOf(':') === i) {
      host = value.slice(0, i);
      port = Number(value.slice(i + 1));
    }
  }
  if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::') host = '::1';
  return { host, port };
}


/**
 * Split a listen or dial address as written (`host:port`, `[v6]:port`, `:port`, a bare host or IPv6
 * address) into its host (brackets stripped; `''` when none) and port (`undefined` when none). The
 * host is kept as written: a wildcard stays a wildcard (see `splitHostPort` for a dialable pair).
 */
export function parseHostPort(value: string): { host: string; port: number | undefined } {
  const v6 = /^\[([^\]]*)\](?::(\d*))?$/.exec(value);
  if (v6) return { host: v6[1] ?? '', port: v6[2] ? Number(v6[2]) : undefined };
  const i = value.lastIndexOf(':');
  // More than one colon and no brackets: a bare IPv6 address.
  if (i < 0 || value.indexOf(':') !== i) return { host: value, port: undefined };
  const port = value.slice(i + 1);
  return { host: value.slice(0, i), port: /^\d+$/.test(port) ? Number(port) : undefined };
}

/** The IP of a listen or dial address (`1.2.3.4:8654`, `[::1]:8654`), if its host is one. */
export function addressIp(value: string): string | undefined {
  const { host } = parseHostPort(value);
  return isIP(host) ? host : undefined;
}

/** `host:port` with an IPv6 host in brackets, as URLs and dial addresses want it. */
export function joinHostPort(host: string, port: number | string): string {
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** Host and port of an `rtsp://` or `http://` base URL (brackets stripped from IPv6 hosts). */
export function urlHostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: u.port ? Number(u.port) : defaultPort };
}

/** A base URL without its trailing slashes. */
export function trimBase(url: string): string {
  return url.replace(/\/+$/, '');
}

/** The 8 groups of an IPv6 address already accepted by `net.isIP` (an IPv4 tail and a zone id allowed). */
function v6Groups(ip: string): number[] {
  const s = ip.replace(/%.*$/, '').toLowerCase();
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(parseInt(g, 16) || 0);
    }
    return out;
  };
  const dbl = s.indexOf('::');
  const head = toGroups(dbl >= 0 ? s.slice(0, dbl) : s);
  const tail = dbl >= 0 ? toGroups(s.slice(dbl + 2)) : [];
  return [...head, ...Array<number>(Math.max(0, 8 - head.length - tail.length)).fill(0), ...tail].slice(0, 8);
}

/**
 * The two groups a connection is accounted to, at every public door and at the origin's lookups:
 * `address` is one subscriber (an IPv4 address; an IPv6 /64, which one subscriber usually holds whole),
 * `prefix` one network (an IPv4 /24; an IPv6 /48, a site or a free tunnel-broker allocation), so a
 * sender rotating addresses inside its network stays one sender. Anything that is not an address
 * (a Unix socket, nothing) is one group of its own.
 */
export function ipGroups(ip: string | undefined): { address: string; prefix: string } {
  const n = normalizeIp(ip);
  const family = isIP(n.replace(/%.*$/, ''));
  if (family === 4) {
    return { address: n, prefix: `${n.slice(0, n.lastIndexOf('.'))}.0/24` };
  }
  if (family === 6) {
    const hex = v6Groups(n).map((g) => g.toString(16));
    return { address: `${hex.slice(0, 4).join(':')}::/64`, prefix: `${hex.slice(0, 3).join(':')}::/48` };
  }
  return { address: n || '(none)', prefix: n || '(none)' };
}
