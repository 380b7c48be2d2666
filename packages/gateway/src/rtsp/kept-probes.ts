import { urlHostPort } from '@haven/core';
import { RtspClientConnection } from './client.js';

/** Counts of a probe's connection pool (benchmarks print them: connects per probe). */
export interface KeptProbeStats {
  /** TCP connections opened. */
  connects: number;
  /** Probes asked over a connection an earlier probe had opened. */
  reused: number;
  /** Probes whose kept connection failed under them and were asked again on a new one. */
  retried: number;
  /** Connections open now. */
  open: number;
}

/** Short reason of a failed probe: `timeout`, the error code (`ECONNREFUSED`...), or the message. */
export function shortReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'timeout';
  return err?.code ?? (err instanceof Error ? err.message.slice(0, 80) : 'error');
}

/**
 * One RTSP connection per node address, kept between probes: a probe asks over it (one request at a
 * time per connection, each answer matched by CSeq) instead of connecting, asking and closing every
 * time, which at one probe per redirect was a connect, an accept and a close on both sides per viewer.
 * The answer still postdates the request: a probe writes its request and reads the answer to it.
 * A connection that fails (closed, reset, aborted at the probe's deadline, a bad answer) is dropped;
 * when it was a kept one, the probe is asked once more on a new connection, so an idle connection the
 * node closed is not a failure, while a node that is gone answers that connect with a refusal (down
 * at once, see `HealthMonitor`) or not at all (the probe's deadline). Idle connections do not hold the
 * process open; `close()` ends them all.
 */
export class KeptProbeConnections {
  readonly #conns = new Map<string, RtspClientConnection>();
  /** The tail of each address's queue of probes (one request at a time per connection). */
  readonly #queue = new Map<string, Promise<unknown>>();
  readonly #stats = { connects: 0, reused: 0, retried: 0 };

  stats(): KeptProbeStats {
    return { ...this.#stats, open: this.#conns.size };
  }

  /**
   * Let `ask` talk over the kept connection to `rtspUrl`'s address (opened when there is none). Throws
   * what the connect or the asking threw (the caller turns it into `up: false`).
   */
  run<T>(rtspUrl: string, signal: AbortSignal, ask: (conn: RtspClientConnection) => Promise<T>): Promise<T> {
    const { host, port } = urlHostPort(rtspUrl, 554);
    const key = `${host}|${port}`;
    const before = this.#queue.get(key);
    const mine = (before ? before.then(noop, noop) : Promise.resolve()).then(() => this.#run(key, host, port, signal, ask));
    const tail = mine.then(noop, noop);
    this.#queue.set(key, tail);
    void tail.then(() => {
      if (this.#queue.get(key) === tail) this.#queue.delete(key);
    });
    return mine;
  }

  async #run<T>(key: string, host: string, port: number, signal: AbortSignal, ask: (conn: RtspClientConnection) => Promise<T>): Promise<T> {
    if (signal.aborted) throw abortReason(signal);
    let conn = this.#conns.get(key);
    if (conn && !conn.open) {
      this.#conns.delete(key);
      conn = undefined;
    }
    const kept = conn !== undefined;
    if (kept) this.#stats.reused++;
    try {
      return await this.#ask(key, conn ?? (await this.#open(key, host, port, signal)), signal, ask);
    } catch (e) {
      // A kept connection the node ended while idle (or just before our request reached it): ask again on
      // a new one, whose connect tells a live node from a dead one. Not after the probe's deadline.
      if (!kept || signal.aborted) throw e;
      this.#stats.retried++;
      return this.#ask(key, await this.#open(key, host, port, signal), signal, ask);
    }
  }

  async #open(key: string, host: string, port: number, signal: AbortSignal): Promise<RtspClientConnection> {
    this.#stats.connects++;
    const conn = await RtspClientConnection.open(host, port, signal, true);
    this.#conns.get(key)?.close();
    this.#conns.set(key, conn);
    return conn;
  }

  async #ask<T>(key: string, conn: RtspClientConnection, signal: AbortSignal, ask: (conn: RtspClientConnection) => Promise<T>): Promise<T> {
    // The probe's deadline ends the connection: an answer still on its way would be read as the next one's.
    const onAbort = () => conn.close();
    signal.addEventListener('abort', onAbort, { once: true });
    conn.hold(true);
    try {
      return await ask(conn);
    } catch (e) {
      conn.close();
      if (this.#conns.get(key) === conn) this.#conns.delete(key);
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
      conn.hold(false);
    }
  }

  /** End every kept connection (a stopped monitor); a later probe opens a new one. */
  close(): void {
    for (const c of this.#conns.values()) c.close();
    this.#conns.clear();
  }
}

function noop(): void {}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error('aborted');
}
