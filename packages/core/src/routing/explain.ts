import type { HavenNode, NodeCandidate, NodeHealthState, NodeSelector, ProbeResult, Selection, ViewerLocation } from '../contracts.js';
import type { ViewerRoutedEvent } from '../events.js';
import { haversineKm, isValidPoint } from '../geo.js';
import { selectNearest } from './selector.js';
import type { PlayerVerdict, ServeDecision } from './serve-decision.js';

/**
 * What the dry run reads of a router (`Router` has it all): declared here, so the router can hand
 * itself to `explainRoute` without the two files importing each other.
 */
export interface ExplainSource {
  readonly registry: { origin(): HavenNode | undefined };
  readonly health: { last(node: HavenNode, stream: string): { result: ProbeResult; ageMs: number } | undefined };
  locate(ip: string): ViewerLocation | undefined;
  followsRedirects(userAgent: string | undefined): boolean;
  playerVerdict(userAgent: string | undefined): PlayerVerdict;
  plan(ip: string, stream: string, location: ViewerLocation | undefined, selector?: NodeSelector): Selection;
  candidates(stream: string): NodeCandidate[];
  serveDecision(userAgent: string | undefined, best: { node: HavenNode; reason: ViewerRoutedEvent['reason'] } | undefined): ServeDecision;
  hasStream(stream: string): boolean;
}

export interface ExplainedCandidate {
  node: string;
  origin: boolean;
  /** Great-circle distance from the viewer, when both places are known. */
  distanceKm?: number;
  health: NodeHealthState;
  load: number;
  capacity: number;
  /** Position in the order the router would try (1 = first); absent when not eligible. */
  rank?: number;
  /** Why it is not eligible. */
  skipped?: 'down' | 'full';
  lastProbe?: { ageMs: number; ok: boolean; reason?: string; rttMs: number };
}

export interface Explanation {
  ip: string;
  stream: string;
  userAgent?: string;
  location?: ViewerLocation;
  followsRedirects: boolean;
  /** `redirect` (302 to a node), `splice` (served by this gateway's own media server) or `refuse` (503: no node). */
  mode: 'redirect' | 'splice' | 'refuse';
  node: string | undefined;
  reason: ViewerRoutedEvent['reason'] | 'no-node';
  /** A fresh probe runs before a redirect; a failure there moves the viewer to the next rank. */
  note?: string;
  candidates: ExplainedCandidate[];
}

function probeView(r: { result: ProbeResult; ageMs: number } | undefined): ExplainedCandidate['lastProbe'] {
  if (!r) return undefined;
  const v: NonNullable<ExplainedCandidate['lastProbe']> = { ageMs: r.ageMs, ok: r.result.up && r.result.ready, rttMs: r.result.rttMs };
  if (r.result.reason !== undefined) v.reason = r.result.reason;
  return v;
}

/** The dry-run behind `Router.explain`: read-only over the router's current state. */
export function explainRoute(router: ExplainSource, ip: string, userAgent: string | undefined, stream: string): Explanation {
  const location = router.locate(ip);
  const follows = router.followsRedirects(userAgent) && router.playerVerdict(userAgent).served === 'redirect';
  const plan = router.plan(ip, stream, location, selectNearest);
  const rank = new Map(plan.ordered.map((o, i) => [o.node.name, i + 1]));
  const candidates = router.candidates(stream).map((c): ExplainedCandidate => {
    const e: ExplainedCandidate = { node: c.node.name, origin: !!c.node.origin, health: c.health, load: c.load, capacity: c.node.capacity };
    if (location && isValidPoint(c.node.location)) e.distanceKm = Math.round(haversineKm(location, c.node.location) * 10) / 10;
    const r = rank.get(c.node.name);
    if (c.health === 'down') e.skipped = 'down';
    else if (c.node.capacity > 0 && c.load >= c.node.capacity) e.skipped = 'full';
    if (r !== undefined && (!e.skipped || c.node.origin)) e.rank = r;
    const lp = c.node.origin ? undefined : probeView(router.health.last(c.node, stream));
    if (lp) e.lastProbe = lp;
    return e;
  });
  candidates.sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.node.localeCompare(b.node));
  const first = plan.ordered[0]?.node;
  // The gateway's own rule, on the plan's first node (the gateway's is the first that passes its probe).
  const serve = router.serveDecision(userAgent, first ? { node: first, reason: plan.reason } : undefined);
  const out: Explanation = {
    ip,
    stream,
    followsRedirects: follows,
    mode: serve.mode,
    node: serve.mode === 'redirect' ? serve.node : serve.mode === 'splice' ? router.registry.origin()?.name : undefined,
    reason: serve.reason,
    candidates,
  };
  if (userAgent !== undefined) out.userAgent = userAgent;
  if (location) out.location = location;
  if (out.mode === 'redirect') out.note = 'a fresh probe runs before the redirect; if it fails the next ranked node is tried, the origin last';
  if (!router.hasStream(stream)) out.note = `stream "${stream}" is not served: the gateway answers 404`;
  return out;
}
