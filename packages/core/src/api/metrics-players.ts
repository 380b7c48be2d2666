import { Gauge, type Registry } from 'prom-client';

export const PLAYER_METRIC_NAMES = {
  followRate: 'haven_player_follow_rate',
  redirects: 'haven_player_redirects',
  auth: 'haven_player_auth',
} as const;

/** What the scrape reads per player (the status view's `players`). */
export interface PlayerMetricsRow {
  userAgent: string;
  redirects: number;
  followed: number;
  sameConnection: number;
  notFollowed: number;
  followRate?: number;
  basic: number;
  digest: number;
}

/** Label values stay short and printable (User-Agents are the player's words). */
const label = (ua: string) => ua.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);

/**
 * Per-player gauges read from the gateway's learner at each scrape: follow-rate of redirects,
 * redirect outcomes, and how viewers proved the password (Basic in clear vs Digest). Bounded by
 * the learner (at most its kept players; the status view passes at most 100).
 */
export function registerPlayerMetrics(registry: Registry, players: () => Promise<PlayerMetricsRow[] | undefined>): void {
  const registers = [registry];
  let last: { at: number; rows: Promise<PlayerMetricsRow[] | undefined> } | undefined;
  // The three gauges collect in one scrape: read the players once.
  const rows = () => {
    if (!last || Date.now() - last.at > 1000) last = { at: Date.now(), rows: players().catch(() => undefined) };
    return last.rows;
  };
  new Gauge({
    name: PLAYER_METRIC_NAMES.followRate,
    help: 'Share of redirected viewers of this player that reached their node (0..1).',
    labelNames: ['user_agent'] as const,
    registers,
    async collect() {
      const r = await rows();
      if (!r) return;
      this.reset();
      for (const p of r) if (p.followRate !== undefined) this.set({ user_agent: label(p.userAgent) }, p.followRate);
    },
  });
  new Gauge({
    name: PLAYER_METRIC_NAMES.redirects,
    help: 'Redirects sent to this player, by outcome (sent, followed, same_connection, not_followed).',
    labelNames: ['user_agent', 'outcome'] as const,
    registers,
    async collect() {
      const r = await rows();
      if (!r) return;
      this.reset();
      for (const p of r) {
        const ua = label(p.userAgent);
        this.set({ user_agent: ua, outcome: 'sent' }, p.redirects);
        this.set({ user_agent: ua, outcome: 'followed' }, p.followed);
        this.set({ user_agent: ua, outcome: 'same_connection' }, p.sameConnection);
        this.set({ user_agent: ua, outcome: 'not_followed' }, p.notFollowed);
      }
    },
  });
  new Gauge({
    name: PLAYER_METRIC_NAMES.auth,
    help: 'Viewers of this player that proved the viewer password with Basic (sent in clear) or Digest.',
    labelNames: ['user_agent', 'scheme'] as const,
    registers,
    async collect() {
      const r = await rows();
      if (!r) return;
      this.reset();
      for (const p of r) {
        const ua = label(p.userAgent);
        this.set({ user_agent: ua, scheme: 'basic' }, p.basic);
        this.set({ user_agent: ua, scheme: 'digest' }, p.digest);
      }
    },
  });
}
