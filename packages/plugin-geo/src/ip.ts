import { isIP } from 'node:net';

/** An address ready for lookup. IPv4 (also when given as IPv4-mapped IPv6) is a uint32. */
export type ParsedIp =
  | { version: 4; v4: number; /** Dotted quad handed to the reader. */ text: string }
  | { version: 6; bytes: Uint8Array; /** IPv6 text handed to the reader (zone id removed). */ text: string };

/** What kind of address this is. Anything but `public` is never looked up in a database. */
export type IpKind = 'public' | 'private' | 'loopback' | 'link-local' | 'unspecified' | 'multicast' | 'reserved' | 'documentation' | 'shared';

/** Longest input we look at: a full IPv6 address with an IPv4 tail and a short zone id. */
const MAX_INPUT = 64;

function parseV4(s: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46; // virtual trailing '.'
    if (c >= 48 && c <= 57) {
      // No leading zeros: `010.1.1.1` is octal to some parsers and decimal to others.
      if (digits === 1 && octet === 0) return undefined;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0 || ++parts > 4) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else return undefined;
  }
  return parts === 4 ? value : undefined;
}

export function formatV4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** 16 bytes of an IPv6 address already accepted by `net.isIP`. */
function parseV6(s: string): Uint8Array | undefined {
  const groups: number[] = [];
  const push = (part: string): boolean => {
    if (part.includes('.')) {
      const v4 = parseV4(part);
      if (v4 === undefined) return false;
      groups.push(v4 >>> 16, v4 & 0xffff);
    } else groups.push(parseInt(part, 16));
    return true;
  };
  const dbl = s.indexOf('::');
  const head = dbl >= 0 ? s.slice(0, dbl) : s;
  const tail = dbl >= 0 ? s.slice(dbl + 2) : '';
  if (head) for (const p of head.split(':')) if (!push(p)) return undefined;
  const headLen = groups.length;
  if (tail) for (const p of tail.split(':')) if (!push(p)) return undefined;
  const tailLen = groups.length - headLen;
  const zeros = 8 - headLen - tailLen;
  if (zeros < 0 || (dbl < 0 && zeros !== 0)) return undefined;
  const out = new Uint8Array(16);
  const all = [...groups.slice(0, headLen), ...new Array<number>(zeros).fill(0), ...groups.slice(headLen)];
  for (let i = 0; i < 8; i++) {
    const g = all[i] ?? 0;
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  }
  return out;
}

function v4FromBytes(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function isZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Parse an address as Node reports it. IPv4-mapped (`::ffff:a.b.c.d`, also in hex), NAT64
 * (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses become the IPv4 address they carry. A zone id
 * (`fe80::1%eth0`) is dropped. Anything else answers `undefined`; this never throws.
 */
export function parseIp(input: unknown, unwrapTunnels = true): ParsedIp | undefined {
  if (typeof input !== 'string' || input.length === 0 || input.length > MAX_INPUT) return undefined;
  const c0 = input.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57 && !input.includes(':')) {
    const v4 = parseV4(input);
    return v4 === undefined ? undefined : { version: 4, v4, text: input };
  }
  const pct = input.indexOf('%');
  const text = pct >= 0 ? input.slice(0, pct) : input;
  if (pct === 0 || isIP(text) !== 6) return undefined;
  const bytes = parseV6(text);
  if (!bytes) return undefined;
  let v4: number | undefined;
  if (isZero(bytes, 0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) v4 = v4FromBytes(bytes, 12);
  else if (!unwrapTunnels) v4 = undefined;
  else if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && isZero(bytes, 4, 12)) v4 = v4FromBytes(bytes, 12);
  else if (bytes[0] === 0x20 && bytes[1] === 0x02) v4 = v4FromBytes(bytes, 2);
  if (v4 !== undefined) return { version: 4, v4, text: formatV4(v4) };
  return { version: 6, bytes, text };
}

export function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

const V4_SPECIAL: Array<[net: number, mask: number, kind: IpKind]> = (
  [
    ['0.0.0.0', 8, 'unspecified'],
    ['10.0.0.0', 8, 'private'],
    ['100.64.0.0', 10, 'shared'],
    ['127.0.0.0', 8, 'loopback'],
    ['169.254.0.0', 16, 'link-local'],
    ['172.16.0.0', 12, 'private'],
    ['192.0.0.0', 24, 'reserved'],
    ['192.0.2.0', 24, 'documentation'],
    ['192.168.0.0', 16, 'private'],
    ['198.18.0.0', 15, 'reserved'],
    ['198.51.100.0', 24, 'documentation'],
    ['203.0.113.0', 24, 'documentation'],
    ['224.0.0.0', 4, 'multicast'],
    ['240.0.0.0', 4, 'reserved'],
  ] as const
).map(([net, prefix, kind]) => [parseV4(net)!, v4Mask(prefix), kind]);

/** Classify an address; special ranges resolve through overrides only, never the database. */
export function ipKind(ip: ParsedIp): IpKind {
  if (ip.version === 4) {
    for (const [net, mask, kind] of V4_SPECIAL) if (((ip.v4 & mask) >>> 0) === net) return kind;
    return 'public';
  }
  const b = ip.bytes;
  if (isZero(b, 0, 12)) {
    if (isZero(b, 12, 15)) return b[15] === 0 ? 'unspecified' : b[15] === 1 ? 'loopback' : 'reserved';
    return 'reserved'; // ::a.b.c.d, deprecated IPv4-compatible addresses
  }
  if ((b[0]! & 0xfe) === 0xfc) return 'private'; // fc00::/7 unique local
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'link-local'; // fe80::/10
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return 'reserved'; // fec0::/10 site-local (deprecated)
  if (b[0] === 0xff) return 'multicast';
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return 'documentation'; // 2001:db8::/32
  if (b[0] === 0x01 && b[1] === 0x00 && isZero(b, 2, 8)) return 'reserved'; // 100::/64 discard
  return 'public';
}

/** A parsed CIDR (`10.0.0.0/8`, `2001:db8::/32`, or a single address). */
export type ParsedCidr = { version: 4; net: number; prefix: number } | { version: 6; bytes: Uint8Array; prefix: number };

/** Parse a CIDR; the error text says what is wrong (host bits set, bad prefix...). */
export function parseCidr(text: string): ParsedCidr | { error: string } {
  const slash = text.indexOf('/');
  const addr = (slash >= 0 ? text.slice(0, slash) : text).trim();
  const ip = parseIp(addr, false);
  if (!ip || addr.includes('%')) return { error: `"${text}" is not an IPv4 or IPv6 network (expected e.g. 10.0.0.0/8 or 2001:db8::/32)` };
  // An IPv4-mapped network such as ::ffff:10.0.0.0/104 is the IPv4 network 10.0.0.0/8.
  const mapped = ip.version === 4 && addr.includes(':');
  const max = ip.version === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(p)) return { error: `"${text}": prefix length must be a number` };
    prefix = Number(p) - (mapped ? 96 : 0);
    if (prefix < 0 || prefix > max) return { error: `"${text}": prefix length must be 0-${mapped ? 128 : max}` };
  }
  if (ip.version === 4) {
    const net = (ip.v4 & v4Mask(prefix)) >>> 0;
    if (net !== ip.v4) return { error: `"${text}" has host bits set: did you mean ${formatV4(net)}/${prefix}?` };
    return { version: 4, net, prefix };
  }
  for (let bit = prefix; bit < 128; bit++) {
    if ((ip.bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) return { error: `"${text}" has host bits set after /${prefix}` };
  }
  return { version: 6, bytes: ip.bytes, prefix };
}

/** Does the network hold the address? */
export function cidrContains(cidr: ParsedCidr, ip: ParsedIp): boolean {
  if (cidr.version !== ip.version) return false;
  if (cidr.version === 4) return ((((ip as { v4: number }).v4 & v4Mask(cidr.prefix)) >>> 0) === cidr.net);
  const b = (ip as { bytes: Uint8Array }).bytes;
  const full = cidr.prefix >> 3;
  for (let i = 0; i < full; i++) if (b[i] !== cidr.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (b[full]! & mask) === (cidr.bytes[full]! & mask);
}
