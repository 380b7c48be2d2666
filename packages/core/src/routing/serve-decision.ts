import type { ViewerRoutedEvent } from '../events.js';

/** What was pinned or learned about a player (the gateway's `FollowLearner.verdict`). */
export interface PlayerVerdict {
  served: 'redirect' | 'local';
  why: 'pinned-local' | 'pinned-redirect' | 'learned-local' | 'default';
}

export interface ServeInput {
  /** The node the router chose (`local`: this gateway's own media server); undefined: none at all. */
  best: { name: string; local: boolean } | undefined;
  /** Why the router chose it (selection, sticky, a failed probe moving on). */
  reason: ViewerRoutedEvent['reason'];
  /** The redirect policy lets this User-Agent have a 302 at all (`followsRedirects`). */
  policyFollows: boolean;
  verdict: PlayerVerdict;
}

export type ServeDecision =
  | { mode: 'redirect'; node: string; reason: ViewerRoutedEvent['reason'] }
  | { mode: 'splice'; reason: ViewerRoutedEvent['reason'] }
  | { mode: 'refuse'; reason: 'no-node' };

/**
 * Redirect or serve here: the one rule the RTSP gateway acts on and `haven route` (`Router.explain`)
 * reports. No node: refused (503). The best node is this gateway's own: served here, for the router's
 * reason. A player pinned or learned as served here, or one the policy does not redirect (`known-players`
 * without its User-Agent, `never`): served here, and the reason says which (a pin or a lesson first:
 * they name this player, the policy only its family). Otherwise: a 302 to the best node.
 */
export function serveDecision(i: ServeInput): ServeDecision {
  if (!i.best) return { mode: 'refuse', reason: 'no-node' };
  if (i.best.local) return { mode: 'splice', reason: i.reason };
  if (i.verdict.served === 'local') return { mode: 'splice', reason: i.verdict.why === 'pinned-local' ? 'pinned-local' : 'learned-local' };
  if (!i.policyFollows) return { mode: 'splice', reason: 'policy-splice' };
  return { mode: 'redirect', node: i.best.name, reason: i.reason };
}
