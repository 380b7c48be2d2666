import { isIP } from 'node:net';
import { normalizeIp } from '@haven/core';

/** Loopback, private or link-local: an address only this machine or its LAN can reach. */
export function hostReach(host: string): 'loopback' | 'private' | 'public' {
  const h = normalizeIp(host.replace(/^\[|\]$/g, '').toLowerCase());
  if (h === 'localhost' || h.endsWith('.localhost')) return 'loopback';
  const kind = isIP(h);
  if (kind === 4) {
    const [a = 0, b = 0] = h.split('.').map(Number);
    if (a === 127) return 'loopback';
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127) || a === 0) return 'private';
    return 'public';
  }
  if (kind === 6) {
    if (h === '::1' || h === '::') return 'loopback';
    if (/^f[cd]/.test(h) || /^fe[89ab]/.test(h)) return 'private';
    return 'public';
  }
  // A name: whoever resolves it decides; a name is what people use for a public address.
  return 'public';
}

/**
 * The warning to print when URLs or join bundles carry a public host others cannot reach, or
 * undefined when the host looks public. `what` names what goes out (e.g. "the join bundle").
 */
export function publicHostWarning(host: string, what: string): string | undefined {
  const reach = hostReach(host);
  if (reach === 'public') return undefined;
  const who = reach === 'loopback' ? 'only this machine' : 'only your local network';
  return `public.host is ${host} (${reach}), which ${who} can reach: ${what} will not work for friends and viewers elsewhere. Set your public IP: \`haven init --public-host <ip>\` on a new Haven, or public.host in haven.yaml`;
}

/** Print the public-host warning on stderr (never on stdout, which may be JSON). */
export function warnPublicHost(host: string, what: string): void {
  const w = publicHostWarning(host, what);
  if (w) process.stderr.write(`! ${w}\n`);
}
