import { connect, type Socket } from 'node:net';
import { proxyV1Header } from './proxy-protocol.js';

export interface SpliceOptions {
  host: string;
  port: number;
  /** Bytes already read from the viewer, replayed to the server first. */
  replay: Buffer;
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

/**
 * Hand a viewer connection to a local RTSP server: dial it, send the PROXY line and the replayed
 * first bytes, then pipe both ways (backpressure through `pipe`). When either side ends or fails,
 * the other is closed too: a spliced connection never outlives its peer. A viewer that leaves while
 * the server is being dialed (a reset, say) never opens the splice at all.
 */
export function spliceTo(viewer: Socket, o: SpliceOptions): void {
  viewer.pause();
  const upstream: Socket = connect({ host: o.host, port: o.port });
  let state: 'dialing' | 'open' | 'failed' | 'closed' = 'dialing';
  const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), o.connectTimeoutMs ?? 3000);
  const finish = () => {
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
    upstream.setKeepAlive(true, 30_000);
    viewer.setKeepAlive(true, 30_000);
    const header = o.proxyProtocol
      ? proxyV1Header(viewer.remoteAddress ?? '', viewer.remotePort ?? 0, viewer.localAddress ?? '', viewer.localPort ?? 0)
      : '';
    upstream.write(header.length > 0 ? Buffer.concat([Buffer.from(header, 'latin1'), o.replay]) : o.replay);
    viewer.pipe(upstream);
    upstream.pipe(viewer);
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
    // `pipe` ends the viewer side after the last bytes; a viewer that never closes its half is cut.
    viewer.end();
    setTimeout(() => viewer.destroy(), 5000).unref();
    finish();
  });
}
