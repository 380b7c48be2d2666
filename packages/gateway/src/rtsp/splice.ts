import { connect, type Socket } from 'node:net';
import type { Transform } from 'node:stream';
import { proxyV1Header } from './proxy-protocol.js';

export interface SpliceOptions {
  host: string;
  port: number;
  /** Bytes already read from the viewer, replayed to the server first. */
  replay: Buffer;
  /**
   * Rewrite what the viewer sends (the gateway's proof in place of its credentials): called once
   * connected, with the upstream socket; its `replay` replaces `replay` and its `transform` sits
   * between viewer and server for the rest of the connection.
   */
  inject?: (upstream: Socket) => { replay: Buffer; transform: Transform };
  /** Prefix a PROXY protocol v1 line carrying the viewer's address. */
  proxyProtocol: boolean;
  /** Dial deadline, ms. Default 3000. */
  connectTimeoutMs?: number;
  /** The server is connected and the bytes flow. */
  onOpen?(): void;
  /** The server could not be reached: the viewer socket is still ours (answer, then close it). */
  onFail(err: Error): void;
  /**
   * The splice is over (either side closed or failed). Called exactly once, and only after `onOpen`,
   * so a count raised in `onOpen` and lowered here never drifts. Byte counts as seen by the gateway.
   */
  onClose?(stats: { toServer: number; toViewer: number }): void;
}

/** Bytes per read from the server (the most a wake-up moves). */
const READ_BYTES = 64 * 1024;
/**
 * Queued toward the viewer before reading from the server stops; reading starts again once the queue
 * is empty ('drain'). Above the socket's own 16 KiB mark, so a viewer that is briefly slow does not
 * cause a pause/resume per packet.
 */
const PAUSE_BYTES = 256 * 1024;
/**
 * Once this much went to the viewer (DESCRIBE, SETUP and PLAY answered: the stream plays), a read
 * that did not fill the buffer (the server had nothing more queued) waits for the next gather tick
 * before the next read. Adds at most BATCH_MS to a packet's way (nothing next to a player's
 * buffer); the setup exchange is never delayed.
 */
const BATCH_AFTER_BYTES = 64 * 1024;
const BATCH_MS = 10;

/**
 * One tick for every gathering splice: all of them read again in the same turn of the event loop,
 * so one epoll wake-up serves them all, and there is one timer for the process instead of one per
 * viewer. Armed only while some splice gathers.
 */
const gathering = new Set<ServerToViewer>();
let tick: NodeJS.Timeout | undefined;
function onTick(): void {
  tick = undefined;
  const wake = [...gathering];
  gathering.clear();
  for (const s of wake) s.wake();
}
function gather(s: ServerToViewer): void {
  gathering.add(s);
  tick ??= setTimeout(onTick, BATCH_MS);
}

/**
 * The server-to-viewer half, the one that carries the stream. The server socket reads into a buffer
 * of ours (`onread`), written to the viewer as it is: no Buffer allocated per read, no stream events,
 * no inspection. A write the kernel takes at once leaves nothing queued and the buffer is reused for
 * the next read; when the viewer's queue is not empty, the bytes are copied (exact size) instead, and a
 * read whose write stayed queued makes the next read use a new buffer.
 */
class ServerToViewer {
  upstream: Socket | undefined;
  #buf = Buffer.allocUnsafe(READ_BYTES);
  #lent = false;
  /** Waiting for the viewer's queue to empty. */
  #paused = false;
  /** Waiting for the gather tick. */
  #gathering = false;
  #moved = 0;
  constructor(private readonly viewer: Socket) {}

  wake(): void {
    this.#gathering = false;
    if (!this.#paused) this.upstream?.resume();
  }

  stop(): void {
    gathering.delete(this);
  }

  readonly nextBuffer = (): Buffer => {
    if (this.#lent) {
      this.#lent = false;
      this.#buf = Buffer.allocUnsafe(READ_BYTES);
    }
    return this.#buf;
  };

  readonly onRead = (n: number, buf: Buffer): boolean => {
    const v = this.viewer;
    if (v.destroyed) return true;
    if (v.writableLength > 0) v.write(Buffer.from(buf.subarray(0, n)));
    else {
      v.write(buf.subarray(0, n));
      if (v.writableLength > 0) this.#lent = true;
    }
    // `writableNeedDrain`: a 'drain' will come (the viewer's own high-water mark was passed).
    if (v.writableLength >= PAUSE_BYTES && v.writableNeedDrain) {
      this.#paused = true;
      return false; // the server socket stops reading until 'drain'
    }
    if (this.#moved < BATCH_AFTER_BYTES) this.#moved += n;
    // A full buffer: more is waiting, read on. Otherwise the server had nothing more (it writes a packet
    // at a time, and a read and a write per packet is what costs): stop reading until the tick, so the
    // next read takes what gathered meanwhile.
    if (this.#moved < BATCH_AFTER_BYTES || n === buf.length) return true;
    this.#gathering = true;
    gather(this);
    return false;
  };

  readonly onDrain = (): void => {
    if (!this.#paused) return;
    this.#paused = false;
    if (!this.#gathering) this.upstream?.resume();
  };
}

/**
 * Hand a viewer connection to a local RTSP server: dial it, send the PROXY line and the replayed
 * first bytes, then carry the bytes both ways (viewer to server through `pipe`, server to viewer
 * through `ServerToViewer`, both with backpressure). When either side ends or fails,
 * the other is closed too: a spliced connection never outlives its peer. A viewer that leaves while
 * the server is being dialed (a reset, say) never opens the splice at all.
 */
export function spliceTo(viewer: Socket, o: SpliceOptions): void {
  viewer.pause();
  const toViewer = new ServerToViewer(viewer);
  const upstream: Socket = connect({ host: o.host, port: o.port, onread: { buffer: toViewer.nextBuffer, callback: toViewer.onRead } });
  toViewer.upstream = upstream;
  let state: 'dialing' | 'open' | 'failed' | 'closed' = 'dialing';
  const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), o.connectTimeoutMs ?? 3000);
  const finish = () => {
    toViewer.stop();
    if (state !== 'open') return;
    state = 'closed';
    o.onClose?.({ toServer: Math.max(0, upstream.bytesWritten - o.replay.length), toViewer: upstream.bytesRead });
  };
  const viewerGone = () => {
    clearTimeout(timer);
    upstream.destroy();
    if (state === 'dialing') state = 'failed';
    else finish();
  };
  if (viewer.destroyed) return viewerGone();
  viewer.once('close', viewerGone);
  viewer.on('error', () => viewer.destroy());
  upstream.once('connect', () => {
    clearTimeout(timer);
    if (state !== 'dialing' || viewer.destroyed) {
      upstream.destroy();
      return;
    }
    state = 'open';
    upstream.setNoDelay(true);
    viewer.setNoDelay(true);
    upstream.setKeepAlive(true, 30_000);
    viewer.setKeepAlive(true, 30_000);
    const header = o.proxyProtocol
      ? proxyV1Header(viewer.remoteAddress ?? '', viewer.remotePort ?? 0, viewer.localAddress ?? '', viewer.localPort ?? 0)
      : '';
    const injected = o.inject?.(upstream);
    const replay = injected?.replay ?? o.replay;
    upstream.write(header.length > 0 ? Buffer.concat([Buffer.from(header, 'latin1'), replay]) : replay);
    if (injected) {
      injected.transform.on('error', () => {
        upstream.destroy();
        viewer.destroy();
      });
      viewer.pipe(injected.transform).pipe(upstream);
    } else viewer.pipe(upstream);
    viewer.on('drain', toViewer.onDrain);
    viewer.resume();
    o.onOpen?.();
  });
  upstream.on('error', (err) => {
    clearTimeout(timer);
    if (state === 'dialing') {
      state = 'failed';
      viewer.off('close', viewerGone);
      o.onFail(err);
    } else if (state === 'open') viewer.destroy();
  });
  upstream.once('close', () => {
    clearTimeout(timer);
    if (state !== 'open') return;
    // The viewer's side ends after the last bytes already queued; a viewer that never closes its half is cut.
    viewer.end();
    setTimeout(() => viewer.destroy(), 5000).unref();
    finish();
  });
}
