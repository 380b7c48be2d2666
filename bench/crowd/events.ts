/** What a crowd reader process is given and what it reports (JSON lines on stdout). Shared types only. */

export interface ReaderSpec {
  id: number;
  /** pc: MS-RTSP (new connection on a 302); quest: media3 (same connection); ffmpeg: FFmpeg's client. */
  kind: 'pc' | 'quest' | 'ffmpeg';
  /** The world's URL list: its region's entry first; a failure moves to the next one after 5 s. */
  urls: string[];
  /** Arrival, ms after `t0`. */
  startMs: number;
  /** The viewer's address (one of its namespace's). */
  localAddress: string;
}

export interface ReaderParams {
  readers: ReaderSpec[];
  /** Epoch ms the arrivals count from. */
  t0: number;
  /** Epoch ms the process stops reading and exits. */
  untilMs: number;
}

/** One reader's event; `at` and `from` are epoch ms. */
export type ReaderEvent =
  | { id: number; ev: 'attempt'; at: number; entry: string }
  /** First real video of a connection: `host` is where it is read from, `hops` every connection's host. */
  | { id: number; ev: 'play'; at: number; entry: string; host: string; hops: string[] }
  /** Real video resumed after a stretch without it (MediaMTX's offline segment, or nothing). */
  | { id: number; ev: 'gap'; at: number; from: number }
  /** A playing connection closed. */
  | { id: number; ev: 'lost'; at: number; lastReal: number }
  /** An attempt that never played. */
  | { id: number; ev: 'fail'; at: number; entry: string; hops: string[]; error: string };
