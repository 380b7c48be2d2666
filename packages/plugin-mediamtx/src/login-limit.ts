import type { FailureCounter } from './auth-policy.js';
import type { AuthDecision, AuthRequest } from './auth-request.js';

/**
 * The failed-login limit, enforced in the hook itself so it holds for viewers spliced by the gateway
 * (their address comes in the PROXY header) and on nodes (no gateway in front). An address that used up
 * `maxFailures` inside the counter's window is refused for publish and read even with the right
 * password, until its failures leave the window. Requests without credentials (a player's first,
 * challenge-seeking request) and the plugin's own API calls are never counted here nor blocked.
 */
export function applyLoginLimit(req: AuthRequest, decision: AuthDecision, ip: string, failures: FailureCounter, maxFailures: number): AuthDecision {
  if (req.action !== 'read' && req.action !== 'publish') return decision;
  if (decision.allow && decision.as === 'relay') return decision; // the VPN's own nodes
  if (failures.count(ip) < maxFailures) return decision;
  const credentials = req.user !== '' || req.password !== '';
  if (!credentials && !decision.allow) return decision;
  return { allow: false, reason: 'rate-limited', credentials };
}
