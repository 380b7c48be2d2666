import { Router, type GatewayConfig, type HavenEmitter, type HealthMonitor, type Locator, type Logger, type NodeRegistry } from '@haven/core';
import { FailureLimiter } from '../budget/rate-limit.js';
import { FollowLearner, type FollowLearnerOptions } from '../players/follow-learning.js';

/** What an origin and an entry node wire alike: where viewers are learned, routed and limited. */
export interface ViewerRoutingDeps {
  registry: NodeRegistry;
  health: HealthMonitor;
  /** The gateway settings, read per viewer. */
  gateway: () => GatewayConfig;
  streams: () => readonly string[];
  /** The learner's own part: its file, or verdicts learned elsewhere (an entry reads the origin's). */
  learner: Pick<FollowLearnerOptions, 'file' | 'learnedElsewhere' | 'onError'>;
  locator?: () => Locator | undefined;
  /** Failed logins the media server counted per IP (viewers spliced to it authenticate there). */
  authFailures?: (ip: string) => number;
  events?: HavenEmitter;
  logger?: Logger;
}

export interface ViewerRouting {
  learner: FollowLearner;
  router: Router;
  limiter: FailureLimiter;
}

/**
 * The player learner, the router and the failure limiter of one gateway, written once for the
 * origin (`createOriginRouting`) and the entry nodes (`createEntryRouting`).
 */
export function createViewerRouting(d: ViewerRoutingDeps): ViewerRouting {
  const gw = d.gateway;
  const learner = new FollowLearner({
    ...d.learner,
    deadlineMs: () => gw().followDeadlineMs,
    minSamples: () => gw().learnMinSamples,
    minFollowRate: () => gw().learnMinFollowRate,
    minPrefixes: () => gw().learnMinPrefixes,
    windowMs: () => gw().learnWindowSec * 1000,
    pinLocal: () => gw().pinLocal,
    pinRedirect: () => gw().pinRedirect,
  });
  const router = new Router({
    registry: d.registry,
    health: d.health,
    playerVerdict: (ua) => learner.verdict(ua),
    policy: gw,
    streams: d.streams,
    stickySec: gw().stickySec,
    ...(d.locator ? { locator: d.locator } : {}),
    ...(d.events ? { events: d.events } : {}),
    ...(d.logger ? { logger: d.logger } : {}),
  });
  const limiter = new FailureLimiter({
    maxFailures: gw().maxAuthFailuresPerMinute,
    ...(d.authFailures ? { external: d.authFailures } : {}),
  });
  return { learner, router, limiter };
}

/**
 * The names of the configured streams, made again only when the list changes: the health monitor
 * asks for them for every node of every decision (at 200 nodes, a new array per node per decision).
 */
export function streamNames(list: () => ReadonlyArray<{ name: string }>): () => readonly string[] {
  let from: ReadonlyArray<{ name: string }> | undefined;
  let length = -1;
  let names: string[] = [];
  return () => {
    const now = list();
    if (now !== from || now.length !== length) {
      from = now;
      length = now.length;
      names = now.map((s) => s.name);
    }
    return names;
  };
}
