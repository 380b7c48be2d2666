import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { type CoreService, type GatewayConfig, type Logger, normalizeIp, type Router, splitHostPort, type ViewerTokenKey } from '@haven/core';
import { guardConnection } from '@haven/door';
import { FollowLearner } from '../players/follow-learning.js';
import { RtspAuthenticator, type ViewerCredentials } from '../auth/digest.js';
import { GatewayConnection } from './connection.js';
import { untilLocalReady } from './local-hold.js';
import { listenOrThrow } from '../listen.js';
import { gatewayBudget, type Admission, type ConnectionBudgetStats, type GatewayBudgetLimits } from '../budget/budget.js';
import { DEFAULT_RTSP_LIMITS } from './parser.js';
import { FailureLimiter } from '../budget/rate-limit.js';
import { rtspResponse } from './response.js';
import { spliceTo } from './splice.js';
import { ProbeSlots } from './probe-slots.js';

export type RtspGatewayLimits = Pick<
  GatewayConfig,
  'maxHeaderBytes' | 'maxHeaders' | 'firstRequestTimeoutMs' | 'maxAuthFailuresPerMinute' | 'maxConnections'
> &
  GatewayBudgetLimits;

export interface RtspGatewayOptions {
  router: Router;
  /** Address to listen on. */
  host: string;
  /** Port to listen on; 0 picks a free one (see `address()`). */
  port: number;
  /**
   * Viewer user and password, read per request (a rotated password applies to the next viewer).
   * Undefined: nothing to check against now (an entry without a routing state): every DESCRIBE is
   * answered 503 before any credential check.
   */
  viewer: () => ViewerCredentials | undefined;
  /** Local MediaMTX RTSP `host:port` to splice to, read per viewer; undefined when there is none. */
  spliceTarget: () => string | undefined;
  limits: RtspGatewayLimits;
  /** Send a PROXY protocol v1 line to MediaMTX on spliced connections (`rtspTrustedProxies`). Default true. */
  proxyProtocol?: boolean;
  /** Requests answered on one connection before a decision. Default 16. */
  maxRequestsPerConnection?: number;
  /** Largest request body accepted, bytes. Default 4096. */
  maxBodyBytes?: number;
  /** Failed-login counter; pass one to share it with the HLS gateway. Default: its own. */
  limiter?: FailureLimiter;
  /**
   * User-Agent substrings (case-insensitive) challenged with Basic only, and only while there is no
   * token key (then a node checks the password itself, Basic only, and FFmpeg re-sends the gateway's
   * scheme there unasked). With the signed token in the `Location` every player gets Digest first:
   * FFmpeg re-sends its Digest header to the node, MediaMTX extracts no password from it, and the
   * hook accepts the token from the query. Default `['Lavf']`.
   */
  basicOnlyUserAgents?: readonly string[];
  /** Accept Basic answers (`viewer.allowBasic`), read per viewer. Default true. */
  allowBasic?: () => boolean;
  /** The gateway's token key (its own pair, and the keys it accepts), read per viewer; undefined: no tokens. */
  tokenKey?: () => ViewerTokenKey | undefined;
  /** An entry node's name: admit `?token=` signed for it and splice it locally (see `ConnectionDeps.self`). */
  self?: () => string | undefined;
  /**
   * Connections from these addresses are spliced to the local media server untouched, with a PROXY
   * header, and the media server decides (an entry node: its relay children over the VPN, whose relay
   * credential MediaMTX accepts only from the VPN subnet). Default: none.
   */
  passthrough?: (ip: string) => boolean;
  /**
   * Whether the local media server serves the stream now (an entry node: false while it re-parents and
   * shows the offline segment, when MediaMTX refuses new reads). Reads spliced here, and passthrough
   * connections (relay children), wait for it at most `LOCAL_HOLD_MS` instead of being refused. Default:
   * always ready.
   */
  localReady?: () => boolean;
  /** Token lifetime, seconds. Default 60. */
  tokenTtlSec?: () => number;
  /** How long a redirected connection stays open for a same-connection DESCRIBE, ms. Default 10000. */
  sameConnectionMs?: () => number;
  /** What is learned about players; default: in memory, 20 s deadline, 3 samples, 0.5 rate. */
  learner?: FollowLearner;
  /** Kept probe connections (see `ProbeSlots`): per address, in all. Default 4 and 512. */
  probeConnections?: { perAddress: number; total: number };
  /** How long a kept probe connection may be idle, ms (probers ask every `health.intervalMs` at least). Default 60000. */
  probeIdleMs?: number;
  /** Digest realm (never `mediamtx`: players retry a new challenge only when the realm changes). Default `Stream Haven`. */
  realm?: string;
  logger?: Logger;
}

export interface RtspGatewayStats {
  open: number;
  undecided: number;
  spliced: number;
  rejectedConnections: number;
  rateLimitedIps: number;
  /** Addresses holding connections now, and connections refused by the per-address budget or rate. */
  addresses: number;
  refusedBudget: number;
  refusedRate: number;
  /** The door's budget in full (see `ConnectionBudget`). */
  budget: ConnectionBudgetStats;
}

export interface RtspGateway extends CoreService {
  /** Where it listens once started. */
  address(): { host: string; port: number } | undefined;
  stats(): RtspGatewayStats;
  /** Follow-through and auth schemes per player. */
  readonly learner: FollowLearner;
}

/**
 * The origin's public RTSP entry point (see `GatewayConnection` for what happens per viewer).
 * Connections per address and per prefix (open and undecided), their rate, the total, bytes and the
 * time before a decision (a total deadline no request extends) are all bounded (`ConnectionBudget`).
 */
export function createRtspGateway(o: RtspGatewayOptions): RtspGateway {
  const limits = { ...DEFAULT_RTSP_LIMITS, maxHeaderBytes: o.limits.maxHeaderBytes, maxHeaders: o.limits.maxHeaders, maxBodyBytes: o.maxBodyBytes ?? 4096 };
  const auth = new RtspAuthenticator(o.realm === undefined ? {} : { realm: o.realm });
  const limiter = o.limiter ?? new FailureLimiter({ maxFailures: o.limits.maxAuthFailuresPerMinute });
  const basicOnlyAgents = (o.basicOnlyUserAgents ?? ['Lavf']).map((a) => a.toLowerCase());
  const learner =
    o.learner ??
    new FollowLearner({ deadlineMs: () => 20_000, minSamples: () => 3, minFollowRate: () => 0.5, pinLocal: () => [], pinRedirect: () => [] });
  const sockets = new Set<Socket>();
  const budget = gatewayBudget(o.limits);
  const probeSlots = new ProbeSlots(o.probeConnections?.perAddress, o.probeConnections?.total);
  let spliced = 0;
  let undecided = 0;
  let rejected = 0;
  let server: Server | undefined;
  let sweep: NodeJS.Timeout | undefined;
  let learnSweep: NodeJS.Timeout | undefined;
  let bound: { host: string; port: number } | undefined;

  const target = () => {
    const t = o.spliceTarget();
    return t ? splitHostPort(t, 8554) : undefined;
  };

  /**
   * How long a connection over only its network's undecided budget waits for a slot before its 503:
   * long enough for a burst of viewers from one network to be decided one after another, short
   * against a world player's 5 s retry.
   */
  const ADMIT_WAIT_MS = 2000;

  const onConnection = (socket: Socket) => {
    const ip = normalizeIp(socket.remoteAddress);
    // Every connection counts against its address and prefix until its socket closes, spliced ones
    // included; an undecided one is closed at its deadline or when a smaller network needs its slot.
    // One over only its network's undecided budget waits a moment for a slot (its bytes stay in the
    // socket): viewers retrying together from one network are decided in milliseconds each.
    socket.on('error', () => {});
    let waiting = true;
    const cancel = budget.admitOrWait(
      ip,
      (why) => {
        if (why === 'deadline') o.router.refused(ip, 'bad-request');
        socket.end(rtspResponse(why === 'deadline' ? 408 : 503, undefined));
        setTimeout(() => socket.destroy(), 1000).unref();
      },
      ADMIT_WAIT_MS,
      (admitted) => {
        waiting = false;
        if (socket.destroyed) {
          if (admitted.ok) admitted.release();
          return;
        }
        onAdmitted(socket, ip, admitted);
      },
    );
    if (waiting) socket.once('close', () => waiting && cancel());
  };

  const onAdmitted = (socket: Socket, ip: string, admitted: Admission) => {
    if (!admitted.ok) {
      rejected++;
      socket.on('error', () => {});
      socket.end(rtspResponse(503, undefined));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    socket.once('close', admitted.release);
    sockets.add(socket);
    const direct = o.passthrough?.(ip) ? target() : undefined;
    if (direct) {
      admitted.decided();
      socket.once('close', () => sockets.delete(socket));
      const go = () => {
        if (!socket.destroyed) spliceTo(socket, { host: direct.host, port: direct.port, replay: Buffer.alloc(0), proxyProtocol: true, onFail: () => socket.destroy() });
      };
      const ready = o.localReady;
      if (!ready || ready()) go();
      else {
        // Held (its bytes wait in the socket) until the stream is back here: a relay child refused now
        // would pull again only after MediaMTX's fixed 5 s retry pause.
        socket.on('error', () => socket.destroy());
        socket.pause();
        void untilLocalReady(ready, () => socket.destroyed).then(go);
      }
      return;
    }
    undecided++;
    void o.router.prepare(ip);
    let settled = false;
    socket.once('close', () => sockets.delete(socket));
    new GatewayConnection(socket, {
      router: o.router,
      auth,
      limiter,
      viewer: o.viewer,
      spliceTarget: target,
      limits,
      requestTimeoutMs: o.limits.firstRequestTimeoutMs,
      proxyProtocol: o.proxyProtocol ?? true,
      maxRequests: o.maxRequestsPerConnection ?? 16,
      basicOnlyAgents,
      allowBasic: o.allowBasic ?? (() => true),
      tokenKey: o.tokenKey ?? (() => undefined),
      tokenTtlSec: o.tokenTtlSec ?? (() => 60),
      ...(o.self ? { self: o.self } : {}),
      sameConnectionMs: o.sameConnectionMs ?? (() => 10_000),
      ...(o.localReady ? { localReady: o.localReady } : {}),
      learner,
      probeSlots,
      probeIdleMs: o.probeIdleMs ?? 60_000,
      ...(o.logger ? { logger: o.logger } : {}),
      onSettled: () => {
        if (settled) return;
        settled = true;
        undecided--;
        admitted.decided();
      },
      onSpliceOpen: () => spliced++,
      onSpliceClose: () => spliced--,
    });
  };

  return {
    name: 'rtsp-gateway',
    async start() {
      if (server) return;
      await learner.load();
      // Nagle stays on at accept: a connection turns it off from its second answer or its splice (connection.ts).
      const srv = createServer(guardConnection({ door: 'rtsp gateway', logger: o.logger }, onConnection));
      srv.on('error', (err) => o.logger?.error({ err }, 'rtsp gateway server error'));
      bound = await listenOrThrow(srv, { host: o.host, port: o.port, backlog: 1024 }, 'RTSP gateway', 'public.rtspPort / public.bind');
      server = srv;
      sweep = setInterval(() => {
        limiter.sweep();
        budget.sweep();
      }, 60_000);
      learnSweep = setInterval(() => {
        learner.sweep();
        void learner.save();
      }, 1000);
      learnSweep.unref();
      sweep.unref();
      o.logger?.info({ address: bound }, 'rtsp gateway listening');
    },
    async stop() {
      const srv = server;
      server = undefined;
      if (sweep) clearInterval(sweep);
      if (learnSweep) clearInterval(learnSweep);
      if (!srv) return;
      await learner.save();
      const closed = new Promise<void>((r) => srv.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    learner,
    address: () => bound,
    stats: () => {
      const b = budget.stats();
      return { open: sockets.size, undecided, spliced, rejectedConnections: rejected, rateLimitedIps: limiter.size, addresses: b.addresses, refusedBudget: b.refusedBudget, refusedRate: b.refusedRate, budget: b };
    },
  };
}
