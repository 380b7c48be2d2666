import type { MtxPath } from './api-schemas.js';
import { hasStream } from './node-paths.js';
import type { MediaMtxApi } from './api.js';

export interface StreamWatchOptions {
  api: Pick<MediaMtxApi, 'listPaths'>;
  intervalMs: number;
  streams: () => string[];
  /** Poll only while this is true (MediaMTX running). */
  active: () => boolean;
  onChange: (stream: string, up: boolean) => void;
  /** Every successful poll's path list (a node learns its streams' tracks from it). */
  onList?: (items: readonly MtxPath[]) => void;
  /** Whether a stream's path counts as up (default: it carries its real stream, see hasStream). */
  isReady?: (p: MtxPath) => boolean;
}

/** Polls `/v3/paths/list` and reports each stream going up (readable) or down. */
export class StreamWatch {
  readonly #o: StreamWatchOptions;
  readonly #up = new Map<string, boolean>();
  /** When each ready stream's current publisher came up (MediaMTX's readyTime/availableTime). */
  readonly #since = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(options: StreamWatchOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.poll(), this.#o.intervalMs);
    this.#timer.unref();
    void this.poll();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  isUp(stream: string): boolean {
    return this.#up.get(stream) ?? false;
  }

  /** MediaMTX died: every stream it carried is down. */
  markAllDown(): void {
    for (const [stream, up] of this.#up) {
      if (!up) continue;
      this.#up.set(stream, false);
      this.#o.onChange(stream, false);
    }
  }

  /** One poll; failures (MediaMTX restarting) are ignored until the next one. */
  async poll(): Promise<void> {
    if (this.#busy || !this.#o.active()) return;
    this.#busy = true;
    try {
      const list = await this.#o.api.listPaths();
      if (!this.#o.active()) return;
      // `online`, not `available`: an alwaysAvailable path playing its offline segment is not the stream.
      const ready = new Map(list.items.map((p) => [p.name, (this.#o.isReady ?? hasStream)(p)]));
      const since = new Map(list.items.map((p) => [p.name, p.availableTime ?? p.readyTime ?? '']));
      const wanted = new Set(this.#o.streams());
      for (const stream of wanted) {
        const up = ready.get(stream) ?? false;
        // A publisher that left and another that came between two polls is a reconnect too.
        const t = up ? (since.get(stream) ?? '') : '';
        const before = this.#since.get(stream);
        if (up && this.#up.get(stream) && t && before && t !== before) this.#set(stream, false);
        if (t) this.#since.set(stream, t);
        else this.#since.delete(stream);
        this.#set(stream, up);
      }
      this.#o.onList?.(list.items);
      for (const stream of [...this.#up.keys()]) {
        if (!wanted.has(stream)) {
          this.#set(stream, false);
          this.#up.delete(stream);
        }
      }
    } catch {
      /* next poll */
    } finally {
      this.#busy = false;
    }
  }

  #set(stream: string, up: boolean): void {
    const before = this.#up.get(stream) ?? false;
    this.#up.set(stream, up);
    if (before !== up) this.#o.onChange(stream, up);
  }
}
