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
