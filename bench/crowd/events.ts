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
  /** A 302 was answered naming `to` (PC and FFmpeg then connect there, Quest asks on the same connection). */
  | { id: number; ev: 'redirected'; at: number; to: string }
  /**
   * A playing connection closed: `cause` is how (`server FIN`, a socket error code, `local`), `offline`
   * whether MediaMTX's offline segment was playing then, `quietMs` since the last packet of any kind.
   */
  | { id: number; ev: 'lost'; at: number; lastReal: number; cause: string; offline: boolean; quietMs: number; lagMs: number }
  /** An attempt that never played; `stage` is the step it failed at. */
  | { id: number; ev: 'fail'; at: number; entry: string; hops: string[]; error: string; stage: string }
  /**
   * An attempt still open when the reader process was asked (SIGUSR2): its step (`connect`, a method,
   * `hold` after PLAY, `retry-wait` between attempts), the host it is at, since when (epoch ms), packets
   * of this connection (`video`: of its video track), whether the offline segment plays, ms since the last
   * packet and the last real video. `lagMs` (also on `lost`): the reader process's longest event-loop
   * stall in the last 5-10 s (a reader starved of CPU reads late, and MediaMTX's write deadline may end it).
   */
  | { id: number; ev: 'open'; at: number; entry: string; stage: string; host: string; since: number; packets: number; video: number; offline: boolean; quietMs?: number; realAgoMs?: number; lagMs: number };
