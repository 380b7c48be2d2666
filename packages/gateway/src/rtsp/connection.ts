import type { Socket } from 'node:net';
import { normalizeIp, type RouteReason, type ViewerLocation } from '@haven/core';
import type { AuthScheme } from '../players/follow-learning.js';
import { guardCallback, logDoorFault, requestLineForLog } from '@haven/door';
import { signViewerToken, TOKEN_USER, verifyViewerToken } from '../auth/token.js';
import { AuthInjector, rewriteRequest } from '../auth/injector.js';
import type { ConnectionDeps, Redirect } from './connection-deps.js';
import { chunkNeedsParse, getHeader, parseRequest, type RtspRequest } from './parser.js';
import { rtspResponse } from './response.js';
import { untilLocalReady } from './local-hold.js';
import { takeProbeSlot } from './probe-slots.js';
import { spliceTo } from './splice.js';
import { forwardUri, readTokenUri, sameRedirectTarget, streamOfUri, tokenLocation } from './target.js';

const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER';

/**
 * One viewer connection on the gateway. Publishers (ANNOUNCE) are spliced at once. Viewers talk to
 * the gateway: OPTIONS is answered here, DESCRIBE is challenged (Digest first, Basic after it when
 * allowed) and, once authenticated, answered with a 302 to the chosen node carrying a short-lived
 * signed token instead of the password. The connection then stays open a while: a DESCRIBE of the
 * `Location` on it (androidx/media3 re-sends DESCRIBE on the same socket) is served right here from
 * the local MediaMTX; a close is the normal follow. Viewers whose best node is the origin, or whose
 * player is pinned or learned as not following, are spliced locally. Every spliced read reaches
 * MediaMTX with the PROXY header and the gateway's token in place of the viewer's credentials.
 */
export class GatewayConnection {
  readonly ip: string;
  #buf: Buffer = Buffer.alloc(0);
  #state: 'first' | 'talk' | 'redirected' | 'spliced' | 'closed' = 'first';
  #busy = false;
  #requests = 0;
  #ua: string | undefined;
  #scheme: AuthScheme | undefined;
  #redirect: Redirect | undefined;
  /** A prober's connection (its credential checked, see `ProbeSlots`): kept, served here, not a viewer. */
  #probe = false;
  #timer: NodeJS.Timeout | undefined;
  #settled = false;
  /** The request being handled; its line as a log may show it (no query, no userinfo) is made only for a fault. */
  #lastReq: RtspRequest | undefined;
  readonly #lastLine = () => this.#lastReq && requestLineForLog(this.#lastReq.method, this.#lastReq.uri, 'RTSP/1.0');
  /** This connection counts as one of the viewers served here (the router's local load). */
  #counted = false;
  /** Answers written so far. */
  #answered = 0;
  readonly #onData: (d: Buffer) => void;

  constructor(
    readonly socket: Socket,
    readonly deps: ConnectionDeps,
  ) {
    this.ip = normalizeIp(socket.remoteAddress);
    this.#onData = guardCallback({ door: 'rtsp gateway', logger: deps.logger }, (d: Buffer) => this.#data(d), () => socket.destroy(), () => this.#lastLine());
    // No setNoDelay yet: most connections get one answer (a 302) and close, and a first answer goes out
    // at once anyway (a syscall per redirect saved). Later answers (`#write`) and a splice set it.
    socket.on('data', this.#onData);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => this.#close());
    this.#arm();
  }

  #arm(ms = this.deps.requestTimeoutMs): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(
      guardCallback(
        { door: 'rtsp gateway', logger: this.deps.logger },
        () => {
          if (this.#state === 'redirected') return this.#finish();
          this.deps.router.refused(this.ip, 'bad-request');
          this.#finish(rtspResponse(408, undefined));
        },
        () => this.socket.destroy(),
      ),
      ms,
    );
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.deps.onSettled();
  }

  /**
   * A viewer counts against this node's load from its decision to serve it here, not once its splice
   * opens: a burst (a dead node's viewers retrying together) all saw one load and overfilled the entry.
   */
  #count(on = true): void {
    if (this.#counted === on || this.#probe) return; // a prober is no viewer
    this.#counted = on;
    this.deps.router.originViewers(on ? 1 : -1);
  }

  #close(): void {
    // Gone while held or dialing (no splice open to end the count), or spliced: counted once either way.
    this.#count(false);
    if (this.#timer) clearTimeout(this.#timer);
    this.#state = this.#state === 'spliced' ? 'spliced' : 'closed';
    this.#settle();
  }

  #finish(last?: Buffer): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#timer) clearTimeout(this.#timer);
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

  /** An answer: the first goes as is; from the second on Nagle is off, so pipelined answers do not wait for an ACK. */
  #write(b: Buffer | string): void {
    if (this.#answered++ === 1) this.socket.setNoDelay(true);
    this.socket.write(b);
  }

  #send(status: number, req: RtspRequest, headers: Array<[string, string]> = []): void {
    this.#write(rtspResponse(status, getHeader(req, 'cseq'), headers));
  }

  #data(chunk: Buffer): void {
    if (this.#state !== 'first' && this.#state !== 'talk' && this.#state !== 'redirected') return;
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
      while (this.#state === 'first' || this.#state === 'talk' || this.#state === 'redirected') {
        const out = parseRequest(this.#buf, this.deps.limits);
        if (out.kind === 'incomplete') break;
        if (out.kind === 'error') {
          this.deps.router.refused(this.ip, 'bad-request');
          this.#finish(rtspResponse(out.status, out.cseq));
          return;
        }
        const raw = this.#buf.subarray(0, out.consumed);
        this.#buf = this.#buf.subarray(out.consumed);
        if (!this.#probe && ++this.#requests > this.deps.maxRequests) {
          this.deps.router.refused(this.ip, 'bad-request');
          this.deps.logger?.warn({ ip: this.ip, requests: this.#requests }, 'too many requests on one gateway connection; closed');
          this.#finish(rtspResponse(400, getHeader(out.request, 'cseq')));
          return;
        }
        if (this.#state !== 'redirected') this.#arm(this.#probe ? this.deps.probeIdleMs : undefined);
        this.#lastReq = out.request;
        await this.#handle(out.request, raw);
      }
    } catch (err) {
      logDoorFault({ door: 'rtsp gateway', logger: this.deps.logger }, err, this.#lastLine(), { ip: this.ip });
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
    if (this.#state === 'redirected') return this.#afterRedirect(req, t0);
    if (!this.#probe && (this.#probe = takeProbeSlot(req, this.deps, this.ip, this.socket))) {
      this.#settle();
      this.#arm(this.deps.probeIdleMs);
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
      // Publishers authenticate at MediaMTX with the stream key: hand every byte over.
      if (req.method === 'ANNOUNCE' || req.method === 'RECORD') return this.#splice({ replay: Buffer.concat([raw, this.#buf]) }, name, 'policy-splice', t0);
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
        return this.#describe(req, name, t0);
      default:
        // SETUP before DESCRIBE, ANNOUNCE after OPTIONS...: MediaMTX speaks for itself (it checks credentials).
        if (req.method === 'ANNOUNCE') return this.#splice({ replay: Buffer.concat([raw, this.#buf]) }, name, 'policy-splice', t0);
        return this.#send(455, req);
    }
  }

  /** Only the `Location` itself may follow a 302 on the same connection; anything else ends it. */
  #afterRedirect(req: RtspRequest, t0: number): void | Promise<void> {
    const r = this.#redirect as Redirect;
    const cseq = getHeader(req, 'cseq');
    if (req.method === 'OPTIONS' || req.method === 'GET_PARAMETER') return this.#send(200, req, req.method === 'OPTIONS' ? [['Public', PUBLIC]] : []);
    if (req.method === 'TEARDOWN') return this.#finish(rtspResponse(200, cseq));
    if (req.method !== 'DESCRIBE') {
      this.deps.router.refused(this.ip, 'bad-request');
      return this.#finish(rtspResponse(455, cseq));
    }
    const same = sameRedirectTarget(req.uri, r.location);
    if (same !== 'same') {
      this.deps.router.refused(this.ip, same === 'other-stream' ? 'not-found' : 'bad-request');
      this.deps.logger?.info({ ip: this.ip, mismatch: same }, 'DESCRIBE after a redirect names another target; closed');
      return this.#finish(rtspResponse(same === 'other-stream' ? 403 : 400, cseq));
    }
    this.deps.learner.sameConnection(this.ip, this.#ua, r.node);
    // Served here, under the Location's own URL (what media3 resolves its tracks against), token removed.
    return this.#spliceRead(req, r.stream, 'same-connection', t0, forwardUri(req.uri, r.stream, this.#authority(r.location)), undefined, undefined, true);
  }

  /** `host:port` of a URI (for a path-only request URI: the address the viewer reached). */
  #authority(uri: string): string {
    const a = readTokenUri(uri)?.authority;
    if (a) return a;
    const host = normalizeIp(this.socket.localAddress);
    return `${host.includes(':') ? `[${host}]` : host}:${this.socket.localPort ?? 554}`;
  }

  async #describe(req: RtspRequest, stream: string, t0: number): Promise<void> {
    const { router, auth, limiter } = this.deps;
    const authorization = getHeader(req, 'authorization');
    const basicAllowed = this.deps.allowBasic();
    const scheme: AuthScheme | undefined = /^basic\s/i.test(authorization ?? '') ? 'basic' : /^digest\s/i.test(authorization ?? '') ? 'digest' : undefined;
    const viewer = this.deps.viewer();
    if (!viewer) {
      // No verifier held (an entry before its first routing state): nobody is checked, nobody is let in.
      router.refused(this.ip, 'no-node');
      return this.#finish(rtspResponse(503, getHeader(req, 'cseq')));
    }
    if (this.#tokenForSelf(req.uri, stream)) return this.#spliceRead(req, stream, 'token', t0, forwardUri(req.uri, stream, this.#authority(req.uri)), undefined, undefined, true);
    let verdict = auth.verify(req.method, authorization, viewer, this.ip, req.uri);
    if (verdict === 'ok' && scheme === 'basic' && !basicAllowed) {
      // Right password, refused scheme: say so plainly (no retry prompt, no failure count).
      router.refused(this.ip, 'basic-refused');
      this.deps.logger?.info({ ip: this.ip, userAgent: this.#ua }, 'viewer sent Basic credentials but viewer.allowBasic is false; refused');
      return this.#finish(rtspResponse(403, getHeader(req, 'cseq'), [], undefined, 'Basic Authentication Not Allowed'));
    }
    if (verdict === 'bad') {
      router.refused(this.ip, limiter.fail(this.ip) ? 'rate-limited' : 'auth');
      if (limiter.blocked(this.ip)) return this.#finish(rtspResponse(403, getHeader(req, 'cseq')));
    }
    if (verdict !== 'ok') {
      const ua = (this.#ua ?? '').toLowerCase();
      // Without tokens (no token key) a node checks the password itself, with Basic only,
      // and FFmpeg re-sends the gateway's scheme there unasked: it keeps getting Basic then.
      const basicOnly = basicAllowed && !this.deps.tokenKey() && this.deps.basicOnlyAgents.some((a) => ua.includes(a));
      return this.#send(401, req, auth.challenge(this.ip, verdict === 'stale', basicOnly, basicAllowed).map((c): [string, string] => ['WWW-Authenticate', c]));
    }
    if (scheme && this.#scheme === undefined) {
      this.#scheme = scheme;
      this.deps.learner.authScheme(this.#ua, scheme);
    }
    // A prober asks about this node: served here even when full (a 302 would have it call a live node down).
    if (this.#probe) return this.#spliceRead(req, stream, 'pinned-local', t0, req.uri);
    const decision = await router.decide(this.ip, stream);
    if (this.#state !== 'talk') return; // the viewer left while we probed
    // The one rule (`serveDecision`), the same `haven route` reports.
    const serve = router.serveDecision(this.#ua, decision);
    if (serve.mode === 'refuse' || !decision) {
      router.refused(this.ip, 'no-node');
      return this.#finish(rtspResponse(503, getHeader(req, 'cseq')));
    }
    if (serve.mode === 'splice') return this.#spliceRead(req, stream, serve.reason, t0, req.uri, decision.location, decision.distanceKm);
    const key = this.deps.tokenKey();
    const token = key ? signViewerToken(key, { ip: this.ip, stream, node: decision.node.name }, this.deps.tokenTtlSec()) : undefined;
    const location = tokenLocation(decision.node.rtspUrl, stream, token);
    const decisionMs = performance.now() - t0;
    this.#write(rtspResponse(302, getHeader(req, 'cseq'), [['Location', location]]));
    this.#redirect = { location, node: decision.node.name, stream, reason: decision.reason };
    this.#state = 'redirected';
    this.#settle();
    this.#arm(this.deps.sameConnectionMs());
    this.deps.learner.redirected(this.ip, this.#ua, decision.node.name);
    router.routed(this.#event(stream, decision.node.name, 'redirect', decision.reason, decisionMs, decision.location, decision.distanceKm));
  }

  /** A redirect token in the URI, signed for this entry node, for this viewer's address and stream. */
  #tokenForSelf(uri: string, stream: string): boolean {
    const self = this.deps.self?.();
    const key = this.deps.tokenKey();
    if (!self || !key) return false;
    const token = readTokenUri(uri)?.token;
    return token !== undefined && verifyViewerToken(key, token, { ip: this.ip, stream, node: self }) === 'ok';
  }

  /**
   * Serve an authenticated read from the local MediaMTX: the DESCRIBE replayed (with `uri`), and
   * every request of the connection carrying the gateway's proof instead of the viewer's
   * credentials, so MediaMTX never challenges on the public path. The proof is a token bound to the
   * viewer's address, the stream and this node; without a token key, the
   * viewer credentials the gateway has just checked, sent to the local MediaMTX only.
   */
  async #spliceRead(req: RtspRequest, stream: string, reason: RouteReason, t0: number, uri: string, location?: ViewerLocation, distanceKm?: number, mapUris = false): Promise<void> {
    this.#count();
    const ready = this.deps.localReady;
    if (ready && !ready()) {
      // Decided (served here): no request timeout or undecided deadline while the stream comes back.
      if (this.#timer) clearTimeout(this.#timer);
      this.#settle();
      await untilLocalReady(ready, () => this.socket.destroyed || this.#state === 'closed');
      if (this.socket.destroyed || this.#state === 'closed') return;
    }
    const key = this.deps.tokenKey();
    const tokenNode = this.deps.self?.() ?? this.deps.router.registry.origin()?.name;
    const rest = this.#buf;
    const ttl = this.deps.tokenTtlSec();
    const proxy = this.deps.proxyProtocol;
    const creds = this.deps.viewer();
    const inject = (upstream: Socket) => {
      // MediaMTX sees the viewer's address through the PROXY line, else the gateway's own.
      const seenAs = proxy ? this.ip : normalizeIp(upstream.localAddress);
      const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      const proof = (s: string) =>
        key && tokenNode ? basic(TOKEN_USER, signViewerToken(key, { ip: seenAs, stream: s, node: tokenNode }, ttl)) : basic(creds?.user ?? '', creds?.password ?? '');
      const authorize = (r: RtspRequest) => {
        const s = streamOfUri(r.uri)?.stream;
        return s === undefined || s === '' ? proof(stream) : proof(s);
      };
      // Requests the viewer pipelined behind the DESCRIBE get the same treatment as later ones.
      // A redirected player resolves its track controls against the token URL by its own rule: every
      // later request goes on as `/<stream>/<control>`, without the token (see `forwardUri`).
      const authority = readTokenUri(uri)?.authority ?? '';
      const map = mapUris ? (u: string) => forwardUri(u, stream, authority) : undefined;
      const transform = new AuthInjector(authorize, this.deps.limits, map);
      if (rest.length > 0) transform.write(rest);
      return { replay: rewriteRequest(req, proof(stream), uri), transform };
    };
    return this.#splice({ replay: Buffer.concat([rewriteRequest(req, undefined, uri), rest]), inject }, stream, reason, t0, location, distanceKm);
  }

  #splice(
    how: { replay: Buffer; inject?: (upstream: Socket) => { replay: Buffer; transform: AuthInjector } },
    stream: string,
    reason: RouteReason,
    t0: number,
    location?: ViewerLocation,
    distanceKm?: number,
  ): void {
    const { router } = this.deps;
    const target = this.deps.spliceTarget();
    const servedBy = this.deps.self?.() ?? router.registry.origin()?.name;
    const cseq = /CSeq:\s*(\d+)/i.exec(how.replay.toString('latin1', 0, Math.min(how.replay.length, 4096)))?.[1];
    if (!target || !servedBy) {
      router.refused(this.ip, 'no-node');
      return this.#finish(rtspResponse(503, cseq));
    }
    const decisionMs = performance.now() - t0;
    this.#state = 'spliced';
    if (this.#timer) clearTimeout(this.#timer);
    this.#settle();
    this.socket.pause();
    this.socket.off('data', this.#onData);
    this.#buf = Buffer.alloc(0);
    spliceTo(this.socket, {
      host: target.host,
      port: target.port,
      replay: how.replay,
      ...(how.inject ? { inject: how.inject } : {}),
      proxyProtocol: this.deps.proxyProtocol,
      onOpen: () => {
        this.deps.onSpliceOpen();
        if (this.#probe) return; // not a viewer: no load, no route
        this.#count();
        router.routed(this.#event(stream, servedBy, 'splice', reason, decisionMs, location ?? router.locate(this.ip), distanceKm));
      },
      onFail: (err) => {
        this.deps.logger?.warn({ err, target: `${target.host}:${target.port}` }, 'local media server unreachable; answering 503');
        router.refused(this.ip, 'no-node');
        this.#count(false);
        this.#state = 'talk';
        this.#finish(rtspResponse(503, cseq));
      },
      onClose: ({ toViewer }) => {
        this.deps.onSpliceClose();
        if (this.#probe) return;
        this.#count(false);
        router.viewerServed(this.ip, stream, servedBy, toViewer);
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
      ...(this.#scheme !== undefined ? { auth: this.#scheme } : {}),
      ...(location?.country !== undefined ? { country: location.country } : {}),
      ...(location?.city !== undefined ? { city: location.city } : {}),
      ...(distanceKm !== undefined ? { distanceKm: Math.round(distanceKm * 10) / 10 } : {}),
    };
  }
}
