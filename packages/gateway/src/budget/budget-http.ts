import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { normalizeIp } from '@haven/core';
import { type DoorGuardOptions, guardConnection } from '@haven/door';
import type { Admission, ConnectionBudget, RefusalReason, ShedReason } from './budget.js';

export interface HttpDoorBudgetOptions {
  /** Open sockets of the door (the door destroys them on stop). */
  sockets?: Set<Socket>;
  /** An admitted connection from `ip` (before any TLS handshake): e.g. start locating the viewer. */
  onAdmit?: (ip: string) => void;
  onRefused?: (ip: string, reason: RefusalReason) => void;
  onShed?: (ip: string, why: ShedReason) => void;
  /** The door's name and logger: a fault while admitting is logged by the shared door guard, never thrown out. */
  guard?: Pick<DoorGuardOptions, 'door' | 'logger'>;
}

/**
 * Puts an HTTP or HTTPS door (HLS gateway, HTTPS entry, ACME responder) behind its `ConnectionBudget`:
 * every TCP connection is admitted or closed at once (before TLS: a refused sender costs no
 * handshake), stays undecided until the door answers one of its requests with a status below 400,
 * and is closed at its undecided deadline however many requests it sends.
 */
export function budgetHttpDoor(srv: HttpServer | HttpsServer, budget: ConnectionBudget, o: HttpDoorBudgetOptions = {}): void {
  // A TLS request's socket is the TLSSocket over the TCP one; both report the same peer.
  const byPeer = new Map<string, Extract<Admission, { ok: true }>>();
  const peer = (s: Socket) => `${s.remoteAddress}|${s.remotePort}`;
  const onConnection = (s: Socket) => {
    const ip = normalizeIp(s.remoteAddress);
    const admitted = budget.admit(ip, (why) => {
      o.onShed?.(ip, why);
      s.destroy();
    });
    if (!admitted.ok) {
      o.onRefused?.(ip, admitted.reason);
      s.destroy();
      return;
    }
    const key = peer(s);
    byPeer.set(key, admitted);
    o.sockets?.add(s);
    s.once('close', () => {
      o.sockets?.delete(s);
      if (byPeer.get(key) === admitted) byPeer.delete(key);
      admitted.release();
    });
    o.onAdmit?.(ip);
  };
  srv.on('connection', o.guard ? guardConnection(o.guard, onConnection) : onConnection);
  srv.on('request', (req, res) => {
    const admitted = byPeer.get(peer(req.socket));
    if (!admitted) return;
    res.once('finish', () => {
      if (res.statusCode < 400) admitted.decided();
    });
  });
}
