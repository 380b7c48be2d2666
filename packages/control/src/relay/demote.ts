/** One report of one node for one stream (cumulative byte counters, as MediaMTX gives them). */
export interface RelaySample {
  at: number;
  ready: boolean;
  readers: number;
  bytesIn: number;
  bytesOut: number;
}

export interface RelayHealthOptions {
  /** How long a demoted node feeds no relay children, ms. Default 120000. */
  demoteMs?: number;
  /** A node whose receive rate, or send rate per reader, falls below this share of the stream's bitrate is demoted. Default 0.75. */
  minRatio?: number;
  clock?: () => number;
}

export interface Demotion {
  node: string;
  reason: string;
  until: number;
}

export interface RelayHealth {
  /**
   * A report arrived. `bitrateBps` is the stream's bitrate at the origin (undefined when not known yet);
   * `isParent` whether the node feeds relay children now. Returns the demotion it caused, if any.
   */
  observe(node: string, sample: RelaySample, bitrateBps: number | undefined, isParent: boolean): Demotion | undefined;
  /** The relay budget the tree may use: 0 while demoted, else the declared one. */
  budget(node: string, declared: number): number;
  demotions(): Demotion[];
  forget(node: string): void;
}

/**
 * Demotes a node that claims a relay budget it cannot serve: while it feeds children, its reports
 * show readers dropped (half or more, at least two, between two reports) or a bitrate below
 * `minRatio` of the stream's (what it receives, or what it sends per reader) in two report windows
 * in a row. One window is not enough: a window that spans a re-parent (its parent died, the node
 * showed MediaMTX's offline segment for a few seconds, then got the stream back) has both reports
 * ready and a low average rate, and the node is not at fault.
 */
export function createRelayHealth(options: RelayHealthOptions = {}): RelayHealth {
  const demoteMs = options.demoteMs ?? 120_000;
  const minRatio = options.minRatio ?? 0.75;
  const now = options.clock ?? Date.now;
  const last = new Map<string, RelaySample>();
  const demoted = new Map<string, Demotion>();

  /** Nodes whose last window had a low bitrate (a second one in a row demotes). */
  const slow = new Set<string>();

  /** `now`: demote at once; `slow`: a low bitrate in this window. */
  const verdict = (a: RelaySample, b: RelaySample, bitrate: number | undefined): { reason: string; now: boolean } | undefined => {
    const dt = (b.at - a.at) / 1000;
    if (dt <= 0.5 || b.bytesIn < a.bytesIn || b.bytesOut < a.bytesOut) return undefined; // restarted counters: no verdict
    // Without the stream (its own parent died, the publisher left) its readers go: not its fault.
    if (!a.ready || !b.ready) return undefined;
    if (a.readers >= 2 && b.readers <= a.readers / 2) return { reason: `readers dropped from ${a.readers} to ${b.readers}`, now: true };
    if (bitrate === undefined || bitrate <= 0) return undefined;
    const inBps = ((b.bytesIn - a.bytesIn) * 8) / dt;
    if (inBps < minRatio * bitrate) return { reason: `receives ${Math.round(inBps / 1000)} kbit/s of a ${Math.round(bitrate / 1000)} kbit/s stream`, now: false };
    const readers = Math.min(a.readers, b.readers);
    if (readers > 0) {
      const perReader = ((b.bytesOut - a.bytesOut) * 8) / dt / readers;
      if (perReader < minRatio * bitrate) return { reason: `sends ${Math.round(perReader / 1000)} kbit/s per reader of a ${Math.round(bitrate / 1000)} kbit/s stream`, now: false };
    }
    return undefined;
  };

  return {
    observe(node, sample, bitrateBps, isParent) {
      const prev = last.get(node);
      last.set(node, sample);
      if (!prev || !isParent) {
        slow.delete(node);
        return undefined;
      }
      const v = verdict(prev, sample, bitrateBps);
      if (v === undefined) {
        slow.delete(node);
        return undefined;
      }
      if (!v.now && !slow.has(node)) {
        slow.add(node);
        return undefined;
      }
      slow.delete(node);
      const reason = v.reason;
      const d = { node, reason, until: now() + demoteMs };
      demoted.set(node, d);
      return d;
    },
    budget(node, declared) {
      const d = demoted.get(node);
      if (d && d.until > now()) return 0;
      if (d) demoted.delete(node);
      return declared;
    },
    demotions() {
      const t = now();
      return [...demoted.values()].filter((d) => d.until > t);
    },
    forget(node) {
      last.delete(node);
      slow.delete(node);
      demoted.delete(node);
    },
  };
}
