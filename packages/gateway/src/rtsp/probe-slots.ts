import type { ViewerTokenKey } from '@haven/core';
import { PROBE_HEADER, verifyProbeToken } from '../auth/probe-token.js';
import type { Socket } from 'node:net';
import type { ConnectionDeps } from './connection-deps.js';
import { getHeader, type RtspRequest } from './parser.js';

/**
 * The budget of kept probe connections (see `PROBE_HEADER`): a connection whose request carries a valid
 * probe credential for this node is decided (no undecided deadline, no request count) and stays open
 * between probes while it is used, in this budget of its own, so probers keep their connections when
 * viewers fill the undecided slots, and viewers never gain one without the credential. A prober over
 * the budget is still answered, on an ordinary connection.
 */
export class ProbeSlots {
  #total = 0;
  readonly #perAddress = new Map<string, number>();

  constructor(
    /** Kept probe connections from one address (a prober keeps one per node address). Default 4. */
    readonly maxPerAddress = 4,
    /** Kept probe connections in all (the origin and every entry that redirects here). Default 512. */
    readonly maxTotal = 512,
  ) {}

  get size(): number {
    return this.#total;
  }

  /** A slot for a probe connection from `ip`, and its release (once); undefined when none is left. */
  take(ip: string): (() => void) | undefined {
    const n = this.#perAddress.get(ip) ?? 0;
    if (n >= this.maxPerAddress || this.#total >= this.maxTotal) return undefined;
    this.#perAddress.set(ip, n + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#perAddress.get(ip) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(ip, left);
      else this.#perAddress.delete(ip);
    };
  }
}

/** Whether `req` carries a probe credential signed for `self` by a key this node accepts now. */
export function isProbeRequest(req: RtspRequest, key: ViewerTokenKey | undefined, self: string | undefined): boolean {
  const token = getHeader(req, PROBE_HEADER);
  return token !== undefined && key !== undefined && self !== undefined && verifyProbeToken(key, token, self) === 'ok';
}

/**
 * A gateway connection's request with a valid probe credential for this node (an entry: its name; the
 * origin: its registry's origin) takes a probe slot, released when the socket closes. False: no
 * credential, or no slot left (then it is an ordinary connection).
 */
export function takeProbeSlot(req: RtspRequest, deps: Pick<ConnectionDeps, 'tokenKey' | 'self' | 'router' | 'probeSlots'>, ip: string, socket: Socket): boolean {
  if (!isProbeRequest(req, deps.tokenKey(), deps.self?.() ?? deps.router.registry.origin()?.name)) return false;
  const release = deps.probeSlots.take(ip);
  if (!release) return false;
  socket.once('close', release);
  return true;
}
