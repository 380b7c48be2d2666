import type { GatewayConfig } from '../config/schema.js';

export type RedirectPolicy = Pick<GatewayConfig, 'redirect' | 'redirectUserAgents'>;

/**
 * Is this player sent a 302 at all? `adaptive` (every player: the gateway learns who follows, see
 * `FollowLearner`) and `always`/`never` decide alone; with
 * `known-players`, a case-insensitive substring of the User-Agent must be on the list (FFmpeg's
 * `Lavf`, `LibVLC`, `LIVE555`, `GStreamer`, `gortsplib`...). No User-Agent: not known, so spliced.
 */
export function followsRedirects(policy: RedirectPolicy, userAgent: string | undefined): boolean {
  if (policy.redirect === 'always' || policy.redirect === 'adaptive') return true;
  if (policy.redirect === 'never') return false;
  if (!userAgent) return false;
  const ua = userAgent.toLowerCase();
  return policy.redirectUserAgents.some((p) => ua.includes(p.toLowerCase()));
}
