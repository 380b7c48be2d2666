import type { Logger, Router, RouteReason, ViewerTokenKey } from '@haven/core';
import type { RtspAuthenticator, ViewerCredentials } from '../auth/digest.js';
import type { FailureLimiter } from '../budget/rate-limit.js';
import type { FollowLearner } from '../players/follow-learning.js';
import type { RtspLimits } from './parser.js';
import type { ProbeSlots } from './probe-slots.js';

/** What one viewer connection is given by its gateway (`GatewayConnection`). */
export interface ConnectionDeps {
  router: Router;
  auth: RtspAuthenticator;
  limiter: FailureLimiter;
  /** Undefined: nothing to check a viewer against now (an entry without a routing state): 503 before any credential check. */
  viewer: () => ViewerCredentials | undefined;
  /** Local MediaMTX RTSP address; undefined = nothing to splice to (viewers that need it get 503). */
  spliceTarget: () => { host: string; port: number } | undefined;
  limits: RtspLimits;
  /** Time allowed to the first full request, and to each next one before a decision, ms. */
  requestTimeoutMs: number;
  proxyProtocol: boolean;
  /** Requests answered on one connection before it is handed over or closed. */
  maxRequests: number;
  /** User-Agent substrings (lower case) challenged with Basic only when there is no token key. */
  basicOnlyAgents: readonly string[];
  /** Accept Basic answers (`viewer.allowBasic`). */
  allowBasic: () => boolean;
  /** Key of the signed viewer tokens; undefined: no tokens (redirects carry none, splices pass credentials on). */
  tokenKey: () => ViewerTokenKey | undefined;
  tokenTtlSec: () => number;
  /**
   * An entry node's own name: the gateway then admits a viewer whose `?token=` was signed for this
   * node (a redirect from another gateway) and splices it to its local media server, and signs its
   * splice tokens for this name. Undefined (the origin): tokens are only issued, never admitted.
   */
  self?: () => string | undefined;
  /** How long a connection stays open after its 302, ms. */
  sameConnectionMs: () => number;
  /**
   * Whether the local media server serves the stream now (see `RtspGatewayOptions.localReady`). A read
   * to be spliced here while it does not waits for it, at most `LOCAL_HOLD_MS`. Default: always ready.
   */
  localReady?: () => boolean;
  learner: FollowLearner;
  /** The budget of kept probe connections (a request with a valid probe credential takes a slot). */
  probeSlots: ProbeSlots;
  /** How long a kept probe connection may be idle between requests, ms. */
  probeIdleMs: number;
  logger?: Logger;
  /** The connection left the undecided phase (spliced, redirected or closed). */
  onSettled(): void;
  onSpliceOpen(): void;
  onSpliceClose(): void;
}

/** The 302 a connection answered, kept while it stays open for the same-connection DESCRIBE. */
export interface Redirect {
  location: string;
  node: string;
  stream: string;
  reason: RouteReason;
}
