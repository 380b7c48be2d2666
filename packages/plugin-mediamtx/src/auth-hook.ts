import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HavenSecrets } from '@haven/core';
import { guardRequestListener, type DoorLogger } from '@haven/door';
import { decide, FailureCounter, type AuthPolicy, type FailureEntry } from './auth-policy.js';
import { authRequestSchema, type AuthDecision, type DenyReason } from './auth-request.js';
import { mtxError } from './errors.js';
import { applyLoginLimit } from './login-limit.js';
import { normalizeIp } from '@haven/core';

/** A denied request that carried credentials. No user name or password, ever. */
export interface AuthFailure {
  ip: string;
  action: string;
  protocol: string;
  path: string;
  reason: DenyReason;
  /** Failures from this IP inside the counter's window, this one included. */
  count: number;
}

export interface AuthHookOptions {
  policy: () => AuthPolicy;
  /** The current secrets; read on every request. */
  secrets: () => HavenSecrets;
  /** Called for each denied request that carried credentials. */
  onFailure?: (failure: AuthFailure) => void;
  /** Called for every decision (debug logging). */
  onDecision?: (decision: AuthDecision, meta: { ip: string; action: string; protocol: string; path: string }) => void;
  failures?: FailureCounter;
  /** Failed logins per address in the counter's window before publish/read are refused outright. Default 10. */
  maxFailures?: () => number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Where a failure inside the hook (a bug) is logged, with its stack. */
  logger?: DoorLogger;
}

const MAX_BODY = 16 * 1024;

/**
 * The HTTP server MediaMTX calls (`authMethod: http`) for every publish and read. Loopback only, with
 * a random path token so other local processes cannot use it as a password oracle. Fails closed.
 */
export class AuthHookServer {
  readonly failures: FailureCounter;
  readonly #token = randomBytes(18).toString('base64url');
  readonly #opts: AuthHookOptions;
  #server: Server | undefined;
  #url: string | undefined;

  constructor(options: AuthHookOptions) {
    this.#opts = options;
    this.failures = options.failures ?? new FailureCounter();
  }

  /** The URL to put in `authHTTPAddress` (contains the path token: keep it in 0600 files only). */
  get url(): string {
    if (!this.#url) throw mtxError('NOT_RUNNING', 'the auth hook is not listening: call listen() first');
    return this.#url;
  }

  async listen(): Promise<string> {
    if (this.#url) return this.#url;
    const host = this.#opts.host ?? '127.0.0.1';
    // The path holds the hook's token: a log line shows it as a placeholder.
    const server = createServer(guardRequestListener({ door: 'mediamtx auth hook', logger: this.#opts.logger, target: () => '/auth/[token]' }, (req, res) => this.#handle(req, res)));
    server.requestTimeout = 5_000;
    server.headersTimeout = 5_000;
    server.keepAliveTimeout = 1_000;
    server.maxHeadersCount = 32;
    server.listen(0, host);
    try {
      await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
    } catch (err) {
      throw mtxError('HOOK_LISTEN', `the auth hook cannot listen on ${host} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
    }
    this.#server = server;
    const { port } = server.address() as AddressInfo;
    this.#url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/auth/${this.#token}`;
    return this.#url;
  }

  /** Failed attempts from this IP in the window. */
  failureCount(ip: string): number {
    return this.failures.count(ip);
  }

  failureSnapshot(): FailureEntry[] {
    return this.failures.snapshot();
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#url = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const reply = (status: number, body: string) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
      res.end(body);
    };
    if (req.method !== 'POST' || req.url !== `/auth/${this.#token}`) {
      req.resume();
      return reply(404, 'not found');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reply(413, 'too large');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => reply(400, 'bad request'));
    req.on('end', () => {
      if (size > MAX_BODY) return;
      try {
        const parsed = authRequestSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        if (!parsed.success) return reply(400, 'bad request');
        const r = parsed.data;
        const meta = { ip: normalizeIp(r.ip), action: r.action, protocol: r.protocol, path: r.path };
        const base = decide(r, this.#opts.policy(), this.#opts.secrets());
        const decision = applyLoginLimit(r, base, meta.ip, this.failures, this.#opts.maxFailures?.() ?? 10);
        this.#opts.onDecision?.(decision, meta);
        if (decision.allow) return reply(200, 'ok');
        // The plugin's own API calls carry a 192-bit secret: their failures do not lock viewers out.
        const counted = r.action === 'read' || r.action === 'publish';
        if (decision.credentials && counted && !(base.allow || base.reason === 'no-credentials')) {
          const count = this.failures.record(meta.ip);
          this.#opts.onFailure?.({ ...meta, reason: decision.reason, count });
        }
        // The body is only logged by MediaMTX: keep it free of anything the client sent.
        return reply(decision.reason === 'unknown-action' ? 403 : 401, 'denied');
      } catch {
        return reply(400, 'bad request');
      }
    });
  }
}
