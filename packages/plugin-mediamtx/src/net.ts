import { BlockList, isIP } from 'node:net';

/** `a.b.c.d/len` or `v6::/len`; a bare address means a single host. */
export function parseCidr(cidr: string): { address: string; prefix: number; family: 4 | 6 } | undefined {
  const [addr = '', len, ...rest] = cidr.trim().split('/');
  if (rest.length > 0) return undefined;
  const family = isIP(addr);
  if (family !== 4 && family !== 6) return undefined;
  const max = family === 4 ? 32 : 128;
  if (len === undefined) return { address: addr, prefix: max, family };
  if (!/^\d{1,3}$/.test(len)) return undefined;
  const prefix = Number(len);
  if (prefix > max) return undefined;
  return { address: addr, prefix, family };
}

/** `::ffff:10.0.0.1` -> `10.0.0.1`; other input unchanged. */
export function normalizeIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m?.[1] ?? ip;
}

/** Answers "is this IP inside one of these subnets?" (IPv4 and IPv6). */
export class SubnetMatcher {
  readonly #list = new BlockList();
  readonly cidrs: readonly string[];

  constructor(cidrs: readonly string[]) {
    this.cidrs = [...cidrs];
    for (const c of cidrs) {
      const p = parseCidr(c);
      if (!p) throw new TypeError(`invalid subnet "${c}"`);
      this.#list.addSubnet(p.address, p.prefix, p.family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  contains(ip: string): boolean {
    const n = normalizeIp(ip);
    const family = isIP(n);
    if (family === 0) return false;
    return this.#list.check(n, family === 4 ? 'ipv4' : 'ipv6');
  }
}

export interface ListenAddress {
  /** Empty string means every interface. */
  host: string;
  port: number;
}

/** Parse MediaMTX's `host:port`, `:port` or `[v6]:port`. */
export function parseListen(address: string): ListenAddress | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(address);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
}

const LOOPBACK_NAMES = new Set(['localhost', '::1']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.has(host.toLowerCase()) || (isIP(host) === 4 && host.startsWith('127.'));
}

/** Where a local client connects to reach a listener (`:8554` and `0.0.0.0` -> loopback). */
export function connectHost(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/** `host:port` for URLs, bracketing IPv6. */
export function hostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** A listen address as a client would dial it, e.g. `:8654` -> `127.0.0.1:8654`. */
export function dialAddress(address: string): string {
  const p = parseListen(address);
  if (!p) return address;
  return hostPort(connectHost(p.host), p.port);
}

/**
 * Mask credentials before text leaves the plugin: `scheme://user:pass@` becomes `scheme://[redacted]@`,
 * `pass=`/`password=` query values are masked, and every known secret value is replaced.
 */
export function sanitize(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text
    .replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/@]*@/g, '$1[redacted]@')
    .replace(/\b(pass|password|token|streamid)=[^\s&"']*/gi, '$1=[redacted]');
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  }
  return out;
}
