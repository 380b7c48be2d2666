import { BlockList, isIP } from 'node:net';
import { joinHostPort, normalizeIp, splitHostPort } from '@haven/core';

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

/** A listen address as a client would dial it, e.g. `:8654` -> `127.0.0.1:8654`. */
export function dialAddress(address: string): string {
  if (!parseListen(address)) return address;
  const { host, port } = splitHostPort(address, 0);
  return joinHostPort(host, port);
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
