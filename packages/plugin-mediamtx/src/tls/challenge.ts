import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { guardRequestListener, type DoorLogger } from '@haven/door';
import { budgetHttpDoor, gatewayBudget, type ConnectionBudget, type ConnectionBudgetStats, type GatewayBudgetLimits } from '@haven/gateway';
import { canonicalIp } from './cert-info.js';

/** RFC 8555 §8.3: the CA fetches `http://<identifier>/.well-known/acme-challenge/<token>`. */
export const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

export interface ChallengeRefusal {
  at: string;
  from: string;
  reason: 'unknown-token' | 'wrong-host';
  /** The Host header given (the token is not kept: it is not a secret, but it is noise). */
  host: string;
}

/**
 * The responder's connection budget by default: the gateway's per-address and per-prefix limits, with
 * a smaller cap (the CA validates from a handful of addresses, and nothing else needs this door).
 */
export const CHALLENGE_LIMITS: GatewayBudgetLimits = { maxConnections: 256 };

/**
 * The http-01 responder on port 80: answers the one key authorization of the pending challenge, only
 * to a request for this node's own address (Host header = its IP). Anything else is a 404 and a
 * counted refusal that the status shows (a challenge for another token or another address means
 * someone else's order, a stale one, or a probe).
 */
export class ChallengeResponder {
  private readonly tokens = new Map<string, string>();
  private server: Server | undefined;
  readonly refusals: ChallengeRefusal[] = [];
  refusedTotal = 0;
  served = 0;
  private readonly budget: ConnectionBudget;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly ip: string,
    private readonly listen: { host: string; port: number },
    private readonly logger?: DoorLogger,
    /** The door's connection budget (the same module as every public door). Default `CHALLENGE_LIMITS`. */
    limits: GatewayBudgetLimits = CHALLENGE_LIMITS,
  ) {
    this.budget = gatewayBudget(limits);
  }

  /** What the door's connection budget holds and refused. */
  budgetStats(): ConnectionBudgetStats {
    return this.budget.stats();
  }

  set(token: string, keyAuthorization: string): void {
    this.tokens.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.tokens.delete(token);
  }

  /** Where it listens (after start). */
  port(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer(guardRequestListener({ door: 'acme responder', logger: this.logger }, (req, res) => {
      const url = req.url ?? '/';
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      const from = canonicalIp(req.socket.remoteAddress ?? '');
      if (!url.startsWith(CHALLENGE_PREFIX)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      const token = url.slice(CHALLENGE_PREFIX.length).split('?')[0] as string;
      const answer = this.tokens.get(token);
      let reason: ChallengeRefusal['reason'] | undefined;
      if (host === '' || canonicalIp(host) !== canonicalIp(this.ip)) reason = 'wrong-host';
      else if (answer === undefined) reason = 'unknown-token';
      if (reason !== undefined || answer === undefined) {
        this.refusedTotal++;
        this.refusals.push({ at: new Date().toISOString(), from, reason: reason ?? 'unknown-token', host: host.slice(0, 64) });
        if (this.refusals.length > 10) this.refusals.shift();
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such challenge\n');
        return;
      }
      this.served++;
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(answer);
    }));
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
    budgetHttpDoor(server, this.budget, { sockets: this.sockets, guard: { door: 'acme responder', logger: this.logger } });
    server.listen(this.listen.port, this.listen.host || undefined);
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => {
        throw err;
      }),
    ]);
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
