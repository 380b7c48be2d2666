import { isIP } from 'node:net';
import { normalizeIp } from '@haven/core';

/**
 * A PROXY protocol v1 line (HAProxy's spec, section 2.1): `PROXY TCP4 <src> <dst> <sport> <dport>\r\n`.
 * MediaMTX (>= 1.19.1) reads it when the gateway's address is in `rtspTrustedProxies`, so the auth
 * hook and its `ips` rules see the viewer's real address. Mixed or unknown families give
 * `PROXY UNKNOWN`, which the receiver accepts and ignores.
 */
export function proxyV1Header(srcIp: string, srcPort: number, dstIp: string, dstPort: number): string {
  const src = normalizeIp(srcIp);
  const dst = normalizeIp(dstIp);
  const fs = isIP(src);
  const fd = isIP(dst);
  const ports = Number.isInteger(srcPort) && Number.isInteger(dstPort) && srcPort > 0 && dstPort > 0 && srcPort < 65536 && dstPort < 65536;
  if (fs === 0 || fs !== fd || !ports) return 'PROXY UNKNOWN\r\n';
  return `PROXY ${fs === 4 ? 'TCP4' : 'TCP6'} ${src} ${dst} ${srcPort} ${dstPort}\r\n`;
}
