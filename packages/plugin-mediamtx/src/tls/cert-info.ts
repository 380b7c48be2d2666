import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { normalizeIp } from '@haven/core';

export interface CertInfo {
  /** Hex serial number, upper case (as Node prints it). */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** IP addresses in the subjectAltName. */
  ips: string[];
  /** DNS names in the subjectAltName. */
  dns: string[];
  issuer: string;
  selfSigned: boolean;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PEM_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]+?-----END (?:[A-Z]+ )?PRIVATE KEY-----/;

/** The certificates of a PEM text, in order. */
export function pemCertificates(pem: string): string[] {
  return pem.match(PEM_CERT) ?? [];
}

/** The first private key of a PEM text, if any. */
export function pemPrivateKey(pem: string): string | undefined {
  return PEM_KEY.exec(pem)?.[0];
}

/** Canonical text of an IP address (IPv6 expanded the way Node prints SAN entries: lower case, compressed). */
export function canonicalIp(ip: string): string {
  // An IPv4-mapped address is the IPv4 address a certificate names.
  const v = normalizeIp(ip.replace(/^\[|\]$/g, ''));
  // A zone id (`fe80::1%eth0`: isIP says 6, the URL parser throws) names no address a certificate
  // holds: kept as it is (lower case), so it matches nothing.
  if (v.includes('%')) return v.toLowerCase();
  if (isIP(v) === 6) return new URL(`http://[${v}]/`).hostname.slice(1, -1);
  return v;
}

/** Facts of the leaf certificate of a PEM chain. Throws when there is none or it does not parse. */
export function certInfo(pem: string): CertInfo {
  const leaf = pemCertificates(pem)[0];
  if (!leaf) throw new Error('no PEM certificate found');
  const c = new X509Certificate(leaf);
  const san = c.subjectAltName ?? '';
  const ips: string[] = [];
  const dns: string[] = [];
  for (const part of san.split(/,\s*/)) {
    const m = /^(IP Address|DNS):(.+)$/.exec(part.trim());
    if (!m) continue;
    if (m[1] === 'DNS') dns.push(m[2] as string);
    else ips.push(canonicalIp(m[2] as string));
  }
  return {
    serial: c.serialNumber.toUpperCase(),
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
    ips,
    dns,
    issuer: c.issuer,
    selfSigned: c.issuer === c.subject && c.checkIssued(c),
  };
}

export type CertProblem =
  | { problem: 'unreadable'; detail: string }
  | { problem: 'wrong-address'; names: string[] }
  | { problem: 'expired'; notAfter: Date }
  | { problem: 'key-mismatch' };

/**
 * Whether a certificate (PEM chain) and key can serve HTTPS at `ip` now: the leaf parses, names the
 * address in its subjectAltName, is within its validity, and belongs to the key. `undefined`: usable.
 */
export function checkCertificate(certPem: string, keyPem: string, ip: string, now = Date.now()): CertProblem | undefined {
  let info: CertInfo;
  let key: KeyObject;
  try {
    info = certInfo(certPem);
    key = createPrivateKey(keyPem);
  } catch (err) {
    return { problem: 'unreadable', detail: (err as Error).message };
  }
  if (!info.ips.includes(canonicalIp(ip))) return { problem: 'wrong-address', names: [...info.ips, ...info.dns] };
  if (info.notAfter.getTime() <= now || info.notBefore.getTime() > now + 300_000) return { problem: 'expired', notAfter: info.notAfter };
  const leaf = new X509Certificate(pemCertificates(certPem)[0] as string);
  if (!leaf.checkPrivateKey(key)) return { problem: 'key-mismatch' };
  return undefined;
}

/** One line saying what is wrong with a certificate, and what to do. */
export function describeProblem(p: CertProblem, ip: string, where: string): string {
  switch (p.problem) {
    case 'unreadable':
      return `${where}: not a PEM certificate and key (${p.detail}); give the PEM chain (leaf first) and its private key`;
    case 'wrong-address':
      return `${where}: the certificate is for ${p.names.join(', ') || 'no address'}, not this node's address ${ip}; get one whose subjectAltName is IP:${ip}`;
    case 'expired':
      return `${where}: the certificate is not valid now (valid until ${p.notAfter.toISOString()}); renew it`;
    case 'key-mismatch':
      return `${where}: the private key does not belong to the certificate; give the key the certificate was issued for`;
  }
}
