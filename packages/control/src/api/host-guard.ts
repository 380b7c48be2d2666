import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { ApiError } from './http.js';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** The host part of a `Host` header or an Origin's authority: `a.b:80` -> `a.b`, `[::1]:80` -> `::1`. */
export function hostOnly(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith('[')) return a.slice(1, a.indexOf(']') < 0 ? a.length : a.indexOf(']'));
  const c = a.lastIndexOf(':');
  return (c < 0 ? a : a.slice(0, c)).replace(/\.$/, '');
}

function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.includes(host) || host.endsWith('.localhost') || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * Which `Host` names the control API answers to, so a page on another name (DNS rebinding) cannot
 * read it: loopback names and addresses, the addresses it listens on, and any extra names configured.
 * When it listens on every interface (`0.0.0.0`/`::`), any IP literal is accepted too (an IP is never
 * a rebound name).
 */
export class HostGuard {
  readonly #names: Set<string>;
  readonly #anyIp: boolean;

  constructor(listenHosts: readonly string[], extra: readonly string[] = []) {
    this.#names = new Set([...listenHosts, ...extra].map((h) => hostOnly(h.includes(':') && !h.startsWith('[') && isIP(h) === 6 ? `[${h}]` : h)));
    this.#anyIp = listenHosts.some((h) => h === '' || h === '0.0.0.0' || h === '::');
  }

  /** Answer to one more address (a listener opened later, e.g. the node-report listener with the tunnel). */
  add(listenHost: string): void {
    this.#names.add(hostOnly(isIP(listenHost) === 6 ? `[${listenHost}]` : listenHost));
  }

  allowsHost(host: string): boolean {
    if (host === '') return false;
    return isLoopback(host) || this.#names.has(host) || (this.#anyIp && isIP(host) !== 0);
  }

  /**
   * Throws 421 for a `Host` header naming another site and 403 for a browser `Origin` that is not this
   * server (cross-site pages may not call the API, not even the public reads).
   */
  check(req: IncomingMessage): void {
    const hostHeader = req.headers.host;
    const host = hostHeader === undefined ? '' : hostOnly(hostHeader);
    if (!this.allowsHost(host)) {
      throw new ApiError(
        421,
        'HOST_NOT_ALLOWED',
        `this control API answers only to its own address (localhost, 127.0.0.1 or the address it listens on), not to Host "${(hostHeader ?? '').slice(0, 100)}"`,
      );
    }
    const origin = req.headers.origin;
    if (origin === undefined) return;
    let ok = false;
    try {
      const u = new URL(origin);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && this.allowsHost(hostOnly(u.host)) && u.host.toLowerCase() === (hostHeader ?? '').toLowerCase();
    } catch {
      ok = false;
    }
    if (!ok) throw new ApiError(403, 'ORIGIN_NOT_ALLOWED', `requests from web pages on other sites are refused (Origin "${origin.slice(0, 100)}")`);
  }
}
