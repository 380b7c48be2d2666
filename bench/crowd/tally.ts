/** The crowd readers' events gathered per reader, and the figures drawn from them. */
import type { ReaderEvent, ReaderSpec } from './events.js';

export interface ReaderState {
  spec: ReaderSpec;
  region: string;
  /** Arrival, epoch ms. */
  arrivedAt: number;
  firstPlayAt?: number;
  playing: boolean;
  /** Where it reads from now (or last did). */
  host?: string;
  /** The entry it connected to last. */
  entry?: string;
  /** Stretches without real video, epoch ms, while connected or between a lost connection and the next play. */
  gaps: Array<{ from: number; to: number }>;
  lostAt: number[];
  /** How each lost connection ended (see the `lost` event). */
  losses: Array<{ at: number; host?: string; cause: string; offline: boolean; quietMs: number; lagMs: number }>;
  attempts: Array<{ at: number; entry: string }>;
  /** Every 302 answered to it: when, and the host it named. */
  redirects: Array<{ at: number; to: string }>;
  fails: Array<{ at: number; entry: string; hops: string[]; error: string; stage: string }>;
  /** Its attempt as the reader process last reported it (SIGUSR2). */
  open?: Extract<ReaderEvent, { ev: 'open' }>;
  plays: Array<{ at: number; host: string; hops: string[] }>;
  lastRealBeforeLoss?: number;
}

export class Tally {
  readonly readers = new Map<number, ReaderState>();

  add(spec: ReaderSpec, region: string, t0: number): void {
    this.readers.set(spec.id, { spec, region, arrivedAt: t0 + spec.startMs, playing: false, gaps: [], lostAt: [], losses: [], attempts: [], redirects: [], fails: [], plays: [] });
  }

  /** One JSON line from a reader process. */
  line(text: string): void {
    let e: ReaderEvent;
    try {
      e = JSON.parse(text) as ReaderEvent;
    } catch {
      return;
    }
    const r = this.readers.get(e.id);
    if (!r) return;
    switch (e.ev) {
      case 'attempt':
        r.attempts.push({ at: e.at, entry: e.entry });
        r.entry = e.entry;
        break;
      case 'play':
        r.firstPlayAt ??= e.at;
        if (r.lastRealBeforeLoss !== undefined) r.gaps.push({ from: r.lastRealBeforeLoss, to: e.at });
        r.lastRealBeforeLoss = undefined;
        r.playing = true;
        r.host = e.host;
        r.plays.push({ at: e.at, host: e.host, hops: e.hops });
        break;
      case 'gap':
        r.gaps.push({ from: e.from, to: e.at });
        break;
      case 'lost':
        r.playing = false;
        r.lostAt.push(e.at);
        r.losses.push({ at: e.at, ...(r.host !== undefined ? { host: r.host } : {}), cause: e.cause, offline: e.offline, quietMs: e.quietMs, lagMs: e.lagMs });
        r.lastRealBeforeLoss = e.lastReal;
        break;
      case 'fail':
        r.fails.push({ at: e.at, entry: e.entry, hops: e.hops, error: e.error, stage: e.stage });
        break;
      case 'redirected':
        r.redirects.push({ at: e.at, to: e.to });
        break;
      case 'open':
        r.open = e;
        break;
    }
  }

  all(): ReaderState[] {
    return [...this.readers.values()];
  }

  playing(): ReaderState[] {
    return this.all().filter((r) => r.playing);
  }
}

/** The `q` quantile by rank (0 for none). */
export const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

/** The longest stretch without real video of a reader inside [from, to], ms (a gap still open at `to` counts to `to`). */
export function longestGap(r: ReaderState, from: number, to: number): number {
  let worst = 0;
  for (const g of r.gaps) {
    const a = Math.max(g.from, from);
    const b = Math.min(g.to, to);
    if (b > a) worst = Math.max(worst, b - a);
  }
  if (!r.playing && r.lastRealBeforeLoss !== undefined) worst = Math.max(worst, to - Math.max(r.lastRealBeforeLoss, from));
  return worst;
}

export const s1 = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
