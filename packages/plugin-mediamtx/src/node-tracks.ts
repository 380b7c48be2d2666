import type { Logger, StreamSpec } from '@haven/core';
import type { MtxPath } from './api-schemas.js';
import { hasStream, offlineTracks, sameTracks, upstreamPath, type OfflineTrack } from './node-paths.js';

/**
 * Node role: each stream's tracks as learned from `up/<stream>` (node-paths.ts), and which of them the
 * viewer path is rendered and applied with. A change re-renders the viewer path (`alwaysAvailable`
 * with exactly these tracks; MediaMTX recreates it once, before viewers are expected).
 */
export class NodeTracks {
  readonly #learned = new Map<string, OfflineTrack[] | null>();
  /** Tracks whose viewer path is rendered and applied (null: no offline equivalent, a plain pull). */
  readonly #applied = new Map<string, OfflineTrack[] | null>();
  /** When `allReadable` last asked for a poll. */
  #polledAt = 0;

  constructor(
    private readonly o: {
      /** Renders and applies the config (the server's one-at-a-time sync). */
      sync: () => Promise<void>;
      /** Whether a stream's viewer path plays its real source now. */
      isUp: (stream: string) => boolean;
      /** Asks the stream watch for a poll of MediaMTX now. */
      poll: () => void;
      logger: Logger;
    },
  ) {}

  /** The learned tracks of a stream, for rendering its viewer path. */
  get(stream: string): OfflineTrack[] | undefined {
    return this.#learned.get(stream) ?? undefined;
  }

  /** Take in a poll of MediaMTX's paths; applies a change in the background. */
  learn(items: readonly MtxPath[], streams: readonly StreamSpec[]): void {
    const byName = new Map(items.map((p) => [p.name, p]));
    let changed = false;
    for (const { name } of streams) {
      const up = byName.get(upstreamPath(name));
      if (!hasStream(up)) continue;
      const tracks = offlineTracks(up) ?? null;
      if (this.#learned.has(name) && sameTracks(tracks ?? undefined, this.#learned.get(name) ?? undefined)) continue;
      this.#learned.set(name, tracks);
      changed = true;
    }
    if (!changed) return;
    const learned = new Map(this.#learned);
    this.o
      .sync()
      .then(() => {
        for (const [name, t] of learned) if (this.#learned.get(name) === t) this.#applied.set(name, t);
      })
      .catch((err: unknown) => {
        // Learn them again at the next poll: else the viewer path's gate (readable) stays shut for good.
        for (const [name, t] of learned) if (this.#learned.get(name) === t && this.#applied.get(name) !== t) this.#learned.delete(name);
        this.o.logger.warn({ err }, 'could not apply the learned stream tracks; trying again');
      });
  }

  /**
   * The auth gate for new reads of the viewer path. Before `up/<stream>` was ever online MediaMTX
   * answers 404 itself (no gate). From then on, refused until the viewer path with the learned tracks is
   * applied (it is recreated once) and, when it is alwaysAvailable, while it plays the offline segment.
   */
  readable(stream: string): boolean {
    if (!this.#learned.has(stream)) return true;
    if (!this.#applied.has(stream) || this.#applied.get(stream) !== this.#learned.get(stream)) return false;
    return this.#applied.get(stream) === null || this.o.isUp(stream);
  }

  /**
   * New reads of every stream are admitted now (`readable`). Cheap and synchronous, for a door holding a
   * read until the stream is back: while it is not, it asks for a poll (at most every 100 ms) so the gate
   * opens within a poll of the stream's return, not at the next 1 s round.
   */
  allReadable(streams: readonly StreamSpec[]): boolean {
    const ok = streams.every((s) => this.readable(s.name));
    if (!ok && Date.now() - this.#polledAt >= 100) {
      this.#polledAt = Date.now();
      this.o.poll();
    }
    return ok;
  }

  /**
   * The viewer path has the stream, and its final shape is applied (the learned tracks), so the one
   * recreation after the first pull is behind it before the node calls itself ready.
   */
  ready(p: MtxPath): boolean {
    return hasStream(p) && this.#applied.has(p.name);
  }
}
