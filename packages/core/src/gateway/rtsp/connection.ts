import type { Socket } from 'node:net';
import type { ViewerLocation } from '../../contracts.js';
import type { Logger } from '../../logger.js';
import { normalizeIp, trimBase } from '../../routing/ip.js';
import type { RouteReason, Router } from '../../routing/router.js';
import type { RtspAuthenticator, ViewerCredentials } from './auth.js';
import { chunkNeedsParse, getHeader, parseRequest, type RtspLimits, type RtspRequest } from './parser.js';
import type { FailureLimiter } from './rate-limit.js';
import { rtspResponse } from './response.js';
import { spliceTo } from './splice.js';
import { streamOfUri, withoutAuthorization } from './target.js';

export interface ConnectionDeps {
  router: Router;
  auth: RtspAuthenticator;
  limiter: FailureLimiter;
  viewer: () => ViewerCredentials;
  /** Local MediaMTX RTSP address; undefined = nothing to splice to (viewers that need it get 503). */
  spliceTarget: () => { host: string; port: number } | undefined;
  limits: RtspLimits;
  /** Time allowed to the first full request, and to each next one before a decision, ms. */
  requestTimeoutMs: number;
  proxyProtocol: boolean;
  /** Requests answered on one connection before it is handed over or closed. */
  maxRequests: number;
  /** User-Agent substrings (lower case) that are challenged with Basic only. */
  basicOnlyAgents: readonly string[];
  logger?: Logger;
  /** The connection left the undecided phase (spliced, redirected or closed). */
  onSettled(): void;
  onSpliceOpen(): void;
  onSpliceClose(): void;
}

const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER';

/**
 * One viewer connection on the gateway, from its first byte until it is redirected, spliced to the
 * local MediaMTX, or closed. The first request decides (User-Agent and address): players that do
 * not follow redirects, and every viewer whose best node is the origin, are spliced at once with
 * every byte replayed; the others are answered by the gateway (OPTIONS, an auth challenge) until an
 * authenticated DESCRIBE gets its 302.
 */
export class GatewayConnection {
  readonly ip: string;
  #buf: Buffer = Buffer.alloc(0);
  #state: 'first' | 'talk' | 'spliced' | 'closed' = 'first';
  #busy = false;
  #requests = 0;
  #ua: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #settled = false;
  readonly #onData = (d: Buffer) => this.#data(d);

  constructor(
    readonly socket: Socket,
    readonly deps: ConnectionDeps,
  ) {
    this.ip = normalizeIp(socket.remoteAddress);
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => this.#close());
    this.#arm();
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.deps.router.refused(this.ip, 'bad-request');
      this.#finish(rtspResponse(408, undefined));
    }, this.deps.requestTimeoutMs);
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.deps.onSettled();
  }

  #close(): void {
    this.#state = this.#state === 'spliced' ? 'spliced' : 'closed';
    this.#settle();
  }

  #finish(last?: Buffer): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#settle();
    const s = this.socket;
    s.off('data', this.#onData);
    const kill = setTimeout(() => s.destroy(), 2000);
    kill.unref();
    s.end(last ?? Buffer.alloc(0), () => {
      clearTimeout(kill);
      s.destroy();
    });
  }

  #send(status: number, req: RtspRequest, headers: Array<[string, string]> = []): void {
    this.socket.write(rtspResponse(status, getHeader(req, 'cseq'), headers));
  }

  #data(chunk: Buffer): void {
    if (this.#state !== 'first' && this.#state !== 'talk') return;
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const cap = this.deps.limits.maxHeaderBytes + this.deps.limits.maxBodyBytes;
    if (this.#buf.length > cap * 2) {
      this.deps.router.refused(this.ip, 'bad-request');
      this.#finish(rtspResponse(400, undefined));
      return;
    }
    if (this.#busy || (!chunkNeedsParse(chunk) && this.#buf.length < this.deps.limits.maxHeaderBytes)) return;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#state === 'first' || this.#state === 'talk') {
        const out = parseRequest(this.#buf, this.deps.limits);
        if (out.kind === 'incomplete') break;
        if (out.kind === 'error') {
          this.deps.router.refused(this.ip, 'bad-request');
          this.#finish(rtspResponse(out.status, out.cseq));
          return;
        }
        const raw = this.#buf.subarray(0, out.consumed);
        this.#buf = this.#buf.subarray(out.consumed);
        if (++this.#requests > this.deps.maxRequests) {
          this.deps.router.refused(this.ip, 'bad-request');
          this.#finish(rtspResponse(400, getHeader(out.request, 'cseq')));
          return;
        }
        this.#arm();
        await this.#handle(out.request, raw);
      }
    } catch (err) {
      this.deps.logger?.warn({ err, ip: this.ip }, 'gateway connection failed');
      this.#finish(rtspResponse(500, undefined));
    } finally {
      this.#busy = false;
    }
  }

  async #handle(req: RtspRequest, raw: Buffer): Promise<void> {
    const { router } = this.deps;
    const t0 = performance.now();
    this.#ua = getHeader(req, 'user-agent') ?? this.#ua;
    if (this.deps.limiter.blocked(this.ip)) {
      router.refused(this.ip, 'rate-limited');
      return this.#finish(rtspResponse(403, getHeader(req, 'cseq')));
    }
    const target = streamOfUri(req.uri);
    const stream = target?.stream;
    const known = stream !== undefined && stream !== '' && router.hasStream(stream);
    if (stream !== undefined && !known && (stream !== '' || req.method !== 'OPTIONS')) {
      router.refused(this.ip, 'not-found');
      return this.#send(404, req);
    }
    const name = known ? stream : (router.streams()[0] ?? '');

    if (this.#state === 'first') {
      const publish = req.method === 'ANNOUNCE' || req.method === 'RECORD';
      const look = publish ? { splice: true, reason: 'policy-splice' as const } : router.firstLook(this.ip, this.#ua, name);
      if (look.splice) return this.#splice(Buffer.concat([raw, this.#buf]), name, look.reason, t0);
      this.#state = 'talk';
    }

    switch (req.method) {
      case 'OPTIONS':
        return this.#send(200, req, [['Public', PUBLIC]]);
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return this.#send(200, req);
      case 'TEARDOWN':
        return this.#finish(rtspResponse(200, getHeader(req, 'cseq')));
      case 'DESCRIBE':
        if (!known) return this.#send(404, req);
        return this.#describe(req, raw, name, t0);
      default:
        // Anything else from a redirect-capable client (ANNOUNCE after OPTIONS...) belongs to MediaMTX.
        return this.#splice(Buffer.concat([raw, this.#buf]), name, 'policy-splice', t0);
    }
  }

  async #describe(req: RtspRequest, raw: Buffer, stream: string, t0: number): Promise<void> {
    const { router, auth, limiter } = this.deps;
    const authorization = getHeader(req, 'authorization');
    const verdict = auth.verify(req.method, authorization, this.deps.viewer(), this.ip, req.uri);
    if (verdict === 'bad') {
      router.refused(this.ip, limiter.fail(this.ip) ? 'rate-limited' : 'auth');
      if (limiter.blocked(this.ip)) return this.#finish(rtspResponse(403, getHeader(req, 'cseq')));
    }
    if (verdict !== 'ok') {
      const ua = (this.#ua ?? '').toLowerCase();
      const basicOnly = this.deps.basicOnlyAgents.some((a) => ua.includes(a));
      return this.#send(401, req, auth.challenge(this.ip, verdict === 'stale', basicOnly).map((c): [string, string] => ['WWW-Authenticate', c]));
    }
    const decision = await router.decide(this.ip, stream);
    if (this.#state !== 'talk') return; // the viewer left while we probed
    if (!decision) {
      router.refused(this.ip, 'no-node');
      return this.#finish(rtspResponse(503, getHeader(req, 'cseq')));
    }
    if (decision.node.origin) {
      // MediaMTX checks credentials itself (Basic); a Digest answer to our nonce means nothing to it.
      const first = /^digest/i.test(authorization ?? '') ? withoutAuthorization(req) : raw;
      return this.#splice(Buffer.concat([first, this.#buf]), stream, decision.reason, t0, decision.location, decision.distanceKm);
    }
    const suffix = streamOfUri(req.uri)?.suffix ?? '';
    const location = `${trimBase(decision.node.rtspUrl)}/${stream}${suffix}`;
    const decisionMs = performance.now() - t0;
    this.#finish(rtspResponse(302, getHeader(req, 'cseq'), [['Location', location]]));
    router.routed(this.#event(stream, decision.node.name, 'redirect', decision.reason, decisionMs, decision.location, decision.distanceKm));
  }

  #splice(replay: Buffer, stream: string, reason: RouteReason, t0: number, location?: ViewerLocation, distanceKm?: number): void {
    const { router } = this.deps;
    const target = this.deps.spliceTarget();
    const origin = router.registry.origin();
    const cseq = /CSeq:\s*(\d+)/i.exec(replay.toString('latin1', 0, Math.min(replay.length, 4096)))?.[1];
    if (!target || !origin) {
      router.refused(this.ip, 'no-node');
      return this.#finish(rtspResponse(503, cseq));
    }
    const decisionMs = performance.now() - t0;
    this.#state = 'spliced';
    this.#settle();
    this.socket.pause();
    this.socket.off('data', this.#onData);
    this.#buf = Buffer.alloc(0);
    spliceTo(this.socket, {
      host: target.host,
      port: target.port,
      replay,
      proxyProtocol: this.deps.proxyProtocol,
      onOpen: () => {
        this.deps.onSpliceOpen();
        router.originViewers(1);
        router.routed(this.#event(stream, origin.name, 'splice', reason, decisionMs, location ?? router.locate(this.ip), distanceKm));
      },
      onFail: (err) => {
        this.deps.logger?.warn({ err, target: `${target.host}:${target.port}` }, 'local media server unreachable; answering 503');
        router.refused(this.ip, 'no-node');
        this.#state = 'talk';
        this.#finish(rtspResponse(503, cseq));
      },
      onClose: ({ toViewer }) => {
        this.deps.onSpliceClose();
        router.originViewers(-1);
        router.viewerServed(this.ip, stream, origin.name, toViewer);
      },
    });
  }

  #event(stream: string, node: string, mode: 'redirect' | 'splice', reason: RouteReason, decisionMs: number, location?: ViewerLocation, distanceKm?: number) {
    return {
      ip: this.ip,
      stream,
      node,
      mode,
      reason,
      decisionMs: Math.round(decisionMs * 1000) / 1000,
      ...(this.#ua !== undefined ? { userAgent: this.#ua } : {}),
      ...(location?.country !== undefined ? { country: location.country } : {}),
      ...(location?.city !== undefined ? { city: location.city } : {}),
      ...(distanceKm !== undefined ? { distanceKm: Math.round(distanceKm * 10) / 10 } : {}),
    };
  }
}
