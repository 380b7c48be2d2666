import type { HavenNode, Locator, NodeCandidate, NodeSelector, Selection, ViewerLocation } from '../contracts.js';
import type { HavenEmitter, ViewerRoutedEvent } from '../events.js';
import type { Logger } from '../logger.js';
import type { HealthMonitor } from './health.js';
import { normalizeIp } from '../net/address.js';
import { followsRedirects, type RedirectPolicy } from './policy.js';
import type { NodeRegistry } from './registry.js';
import { createSelector } from './selector.js';
import { RoutingCounters, type RefuseReason, type RoutingStats } from './stats.js';
import { StickyMap } from './sticky.js';
import { explainRoute, type Explanation } from './explain.js';
import { serveDecision, type PlayerVerdict, type ServeDecision } from './serve-decision.js';

/** How long a decision waits for a locator that asks elsewhere (`Locator.prepare`) before it goes on without a location. */
const PREPARE_WAIT_MS = 500;
const DONE: Promise<void> = Promise.resolve();

export type RouteReason = ViewerRoutedEvent['reason'];

export interface RouterOptions {
  registry: NodeRegistry;
  health: HealthMonitor;
  /** The locator, read per viewer (it may be provided after the router is built). Absent: no location, origin. */
  locator?: () => Locator | undefined;
  /** Default: nearest healthy node with room (`createSelector`). */
  selector?: NodeSelector;
  /** Redirect policy, read per viewer (config reload). */
  policy: () => RedirectPolicy;
  /** What was learned or pinned about a player (the gateway's `FollowLearner`); default: redirect. */
  playerVerdict?: (userAgent: string | undefined) => PlayerVerdict;
  /** Streams served; the first is the default for `explain`. */
  streams: () => readonly string[];
  /** Same viewer IP keeps its node this long while it is healthy; 0 = off. Default 0. */
  stickySec?: number;
  /** Relay nodes tried (each with a fresh probe) before falling back to the origin. Default 4. */
  maxAttempts?: number;
  events?: HavenEmitter;
  logger?: Logger;
  now?: () => number;
}

export interface Attempt {
  node: string;
  ok: boolean;
  probed: boolean;
  reason?: string;
}

export interface Decision {
  node: HavenNode;
  reason: RouteReason;
  distanceKm?: number;
  location?: ViewerLocation;
  tried: Attempt[];
}

/** A check the caller adds to a candidate (the HLS gateway fetches the node's playlist). */
export type Verify = (node: HavenNode) => Promise<boolean>;

/**
 * Routing decisions: locate the viewer, rank nodes with the (pure) selector, keep a viewer on its
 * node for `stickySec`, confirm the choice with a fresh probe (next node on failure, the origin
 * last), and count and announce every decision.
 */
export class Router {
  readonly #o: RouterOptions;
  readonly #select: NodeSelector;
  readonly #sticky: StickyMap;
  readonly #counters = new RoutingCounters();
  #originViewers = 0;

  constructor(options: RouterOptions) {
    this.#o = options;
    this.#select = options.selector ?? createSelector({ limit: Math.max(2, (options.maxAttempts ?? 4) + 1) });
    this.#sticky = new StickyMap((options.stickySec ?? 0) * 1000, options.now ?? Date.now);
  }

  get registry(): NodeRegistry {
    return this.#o.registry;
  }

  get health(): HealthMonitor {
    return this.#o.health;
  }

  streams(): readonly string[] {
    return this.#o.streams();
  }

  hasStream(stream: string): boolean {
    return this.#o.streams().includes(stream);
  }

  /** Where this IP is; never throws (a failing locator means no location). */
  locate(ip: string): ViewerLocation | undefined {
    try {
      return this.#o.locator?.()?.locate(normalizeIp(ip));
    } catch {
      return undefined;
    }
  }

  /**
   * A viewer at `ip` just connected: let a locator that asks elsewhere start now, so the answer is
   * there by the time the viewer has authenticated. Resolves when it is (never rejects).
   */
  prepare(ip: string): Promise<void> {
    const locator = this.#o.locator?.();
    // Per connection: a locator that answers at once (the origin's GeoIP) costs nothing here.
    if (!locator?.prepare) return DONE;
    try {
      return locator.prepare(normalizeIp(ip)).catch(() => undefined);
    } catch {
      return DONE;
    }
  }

  /** The redirect policy alone (config): is this player sent a 302 at all? */
  followsRedirects(userAgent: string | undefined): boolean {
    return followsRedirects(this.#o.policy(), userAgent);
  }

  /** Pinned or learned: is this player served locally whatever its best node? */
  playerVerdict(userAgent: string | undefined): PlayerVerdict {
    return this.#o.playerVerdict?.(userAgent) ?? { served: 'redirect', why: 'default' };
  }

  /**
   * Redirect, serve here or refuse a viewer with this User-Agent whose best node is `best` (a decision
   * of `decide`, or the first of a `plan` for the dry run): `serveDecision` over this router's policy
   * and what was learned about the player. The gateway acts on it; `explain` reports it.
   */
  serveDecision(userAgent: string | undefined, best: { node: HavenNode; reason: RouteReason } | undefined): ServeDecision {
    return serveDecision({
      best: best ? { name: best.node.name, local: !!best.node.origin } : undefined,
      reason: best?.reason ?? 'fallback-no-location',
      policyFollows: this.followsRedirects(userAgent),
      verdict: this.playerVerdict(userAgent),
    });
  }

  /** Candidates for a stream with their health and load (the origin's load is its open spliced viewers). */
  candidates(stream: string): NodeCandidate[] {
    const h = this.#o.health;
    return this.#o.registry.list().map((node) => ({
      node,
      health: h.state(node, stream),
      load: node.origin ? this.#originViewers : h.load(node),
    }));
  }

  #stickyFirst(ip: string, stream: string, cands: NodeCandidate[]): NodeCandidate | undefined {
    const name = this.#sticky.get(`${ip}|${stream}`);
    if (name === undefined) return undefined;
    const c = cands.find((x) => x.node.name === name);
    if (!c || c.health === 'down' || (c.node.capacity > 0 && c.load >= c.node.capacity)) return undefined;
    return c;
  }

  /** Selection plus the sticky node first (when still healthy with room). Pure given the current state. */
  plan(ip: string, stream: string, location: ViewerLocation | undefined, selector = this.#select): Selection & { sticky?: HavenNode } {
    const cands = this.candidates(stream);
    const sel = selector(location ? { viewer: location, candidates: cands } : { candidates: cands });
    const sticky = this.#stickyFirst(normalizeIp(ip), stream, cands);
    if (!sticky) return sel;
    const ordered = [{ node: sticky.node }, ...sel.ordered.filter((o) => o.node !== sticky.node)];
    return { ordered, reason: 'sticky', sticky: sticky.node };
  }

  /** Pick the node for this viewer now: fresh probe before each relay node, next on failure, origin last. */
  async decide(ip: string, stream: string, verify?: Verify): Promise<Decision | undefined> {
    // A locator that asks elsewhere started when the viewer connected (`prepare`): mostly done by
    // now, and never waited on for long.
    const prepared = this.prepare(ip);
    if (prepared !== DONE) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([prepared, new Promise((r) => (timer = setTimeout(r, PREPARE_WAIT_MS)))]);
      clearTimeout(timer);
    }
    const location = this.locate(ip);
    const sel = this.plan(ip, stream, location);
    const tried: Attempt[] = [];
    const max = this.#o.maxAttempts ?? 4;
    const done = (node: HavenNode, distanceKm: number | undefined): Decision => {
      const reason: RouteReason = tried.some((t) => !t.ok) ? 'probe-failed-next' : sel.reason;
      const d: Decision = { node, reason, tried };
      if (distanceKm !== undefined) d.distanceKm = distanceKm;
      if (location) d.location = location;
      return d;
    };
    for (const { node, distanceKm } of sel.ordered) {
      if (node.origin) return done(node, distanceKm);
      if (tried.length >= max) continue;
      const fresh = await this.#o.health.ensureFresh(node, stream);
      if (fresh.started) this.#counters.probed(fresh.ok);
      let ok = fresh.ok;
      if (ok && verify) ok = await verify(node).catch(() => false);
      const a: Attempt = { node: node.name, ok, probed: fresh.probed };
      if (!ok) a.reason = fresh.ok ? 'verify failed' : (fresh.result?.reason ?? 'not ready');
      tried.push(a);
      if (ok) return done(node, distanceKm);
    }
    const origin = this.#o.registry.origin();
    return origin ? done(origin, undefined) : undefined;
  }

  /** Announce and count a routed viewer; remembers the node for stickiness. */
  routed(ev: ViewerRoutedEvent): void {
    this.#counters.routed(ev);
    const node = this.#o.registry.get(ev.node);
    if (node && !node.origin) {
      this.#o.health.noteRouted(node);
      this.#sticky.set(`${normalizeIp(ev.ip)}|${ev.stream}`, ev.node);
    }
    this.#o.events?.emit('viewer:routed', ev);
    this.#o.logger?.debug({ stream: ev.stream, node: ev.node, mode: ev.mode, reason: ev.reason, decisionMs: ev.decisionMs }, 'viewer routed');
  }

  refused(ip: string, reason: RefuseReason): void {
    this.#counters.refused(reason);
    this.#o.events?.emit('viewer:refused', { ip, reason });
  }

  /** A viewer served through the origin left (bytes sent to it). */
  viewerServed(ip: string, stream: string, node: string, bytes?: number): void {
    this.#o.events?.emit('viewer:served', bytes === undefined ? { ip, stream, node } : { ip, stream, node, bytes });
  }

  /** The gateway opened (+1) or closed (-1) a spliced viewer on the origin. */
  originViewers(delta: 1 | -1): void {
    this.#originViewers = Math.max(0, this.#originViewers + delta);
  }

  /** Dry-run: which node this viewer would get now and why. No probe, no counter, no event. */
  explain(ip: string, userAgent?: string, stream?: string): Explanation {
    return explainRoute(this, ip, userAgent, stream ?? this.#o.streams()[0] ?? 'live');
  }

  stats(): RoutingStats {
    return this.#counters.snapshot();
  }

  recent(): ViewerRoutedEvent[] {
    return this.#counters.recent();
  }
}
