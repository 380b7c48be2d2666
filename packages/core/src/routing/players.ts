/**
 * What a gateway learns about players (per User-Agent): the shapes the control API shows and the
 * book a gateway keeps them in. The learner itself is the gateway's (`FollowLearner` in `@haven/gateway`).
 */

/** One player (User-Agent) as the gateway's book shows it. No viewer address or network is in it. */
export interface PlayerView {
  userAgent: string;
  redirects: number;
  /** Reached the node (reported by the node). */
  followed: number;
  /** Asked again on the same connection and was served there. */
  sameConnection: number;
  /** Neither came back nor reached the node in time. */
  notFollowed: number;
  /** Logins answered with Basic, and with Digest. */
  basic: number;
  digest: number;
  lastAt: number;
  /** What the learned verdict rests on now (the outcomes within the window); absent without outcomes. */
  evidence?: {
    /** Outcomes (followed or not) within the window. */
    outcomes: number;
    followed: number;
    /** Distinct networks (IPv4 /24, IPv6 /48) whose redirects were not followed. */
    prefixes: number;
    /** Epoch ms of the oldest and newest outcome counted. */
    firstAt: number;
    lastAt: number;
  };
  /** followed / (followed + notFollowed); undefined before any outcome. */
  followRate?: number;
  /** What the next viewer with this User-Agent gets. */
  served: 'redirect' | 'local';
  why: 'pinned-local' | 'pinned-redirect' | 'learned-local' | 'default';
}

/** A gateway's book of players, as the Haven's status and the control API read and clear it. */
export interface PlayerBook {
  /** Every player known now, with the verdict the next viewer with its User-Agent gets. */
  snapshot(): PlayerView[];
  /** Forget what was learned (about one User-Agent, or all); returns how many records were cleared. */
  reset(userAgent?: string): number;
  /** A node reported new readers from these addresses: redirects sent there were followed. Returns how many settled. */
  arrived(node: string, ips: readonly string[]): number;
  /** Write the book to its file now (no-op without one). */
  save(): Promise<void>;
}
