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
/** One gauge: its name, help, extra label, and the samples one player row gives. */
interface PlayerGauge {
  name: string;
  help: string;
  extraLabel?: 'outcome' | 'scheme';
  samples: (p: PlayerMetricsRow) => Array<[labelValue: string | undefined, value: number | undefined]>;
}

const GAUGES: PlayerGauge[] = [
  {
    name: PLAYER_METRIC_NAMES.followRate,
    help: 'Share of redirected viewers of this player that reached their node (0..1).',
    samples: (p) => [[undefined, p.followRate]],
  },
  {
    name: PLAYER_METRIC_NAMES.redirects,
    help: 'Redirects sent to this player, by outcome (sent, followed, same_connection, not_followed).',
    extraLabel: 'outcome',
    samples: (p) => [['sent', p.redirects], ['followed', p.followed], ['same_connection', p.sameConnection], ['not_followed', p.notFollowed]],
  },
  {
    name: PLAYER_METRIC_NAMES.auth,
    help: 'Viewers of this player that proved the viewer password with Basic (sent in clear) or Digest.',
    extraLabel: 'scheme',
    samples: (p) => [['basic', p.basic], ['digest', p.digest]],
  },
];

/**
 * Per-player gauges read from the gateway's learner at each scrape: follow-rate of redirects,
 * redirect outcomes, and how viewers proved the password (Basic in clear vs Digest). Bounded by
 * the learner (at most its kept players; the status view passes at most 100).
 */
export function registerPlayerMetrics(registry: Registry, players: () => Promise<PlayerMetricsRow[] | undefined>): void {
  let last: { at: number; rows: Promise<PlayerMetricsRow[] | undefined> } | undefined;
  // The gauges collect in one scrape: read the players once.
  const rows = () => {
    if (!last || Date.now() - last.at > 1000) last = { at: Date.now(), rows: players().catch(() => undefined) };
    return last.rows;
  };
  for (const g of GAUGES) {
    new Gauge({
      name: g.name,
      help: g.help,
      labelNames: g.extraLabel ? ['user_agent', g.extraLabel] : ['user_agent'],
      registers: [registry],
      async collect() {
        const r = await rows();
        if (!r) return;
        this.reset();
        for (const p of r) {
          const ua = label(p.userAgent);
          for (const [extra, value] of g.samples(p)) {
            if (value === undefined) continue;
            this.set(g.extraLabel && extra !== undefined ? { user_agent: ua, [g.extraLabel]: extra } : { user_agent: ua }, value);
          }
        }
      },
    });
  }
}
