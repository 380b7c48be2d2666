import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@haven/core';
import { BASE_HEADERS } from './http.js';

export interface LiveHubOptions {
  /** Max concurrent clients; more are answered 503. */
  maxClients: number;
  /** Changes within this many ms go out as one snapshot. */
  debounceMs: number;
  /** Comment line sent this often so proxies keep the stream open. Default 15000. */
  heartbeatMs?: number;
  /** Builds the payload of a `snapshot` event. */
  snapshot(): Promise<unknown>;
  logger: Logger;
}

/** A client that stops reading is dropped once this much is queued for it. */
const MAX_BUFFERED = 1 << 20;

/**
 * Server-Sent Events for the status page: every client gets a full `snapshot` on connect and
 * after each change (coalesced), so a client that missed events is never out of step.
 */
export class LiveHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #opts: LiveHubOptions;
  #timer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #pending = false;
  #sending = false;
  #closed = false;

  constructor(options: LiveHubOptions) {
    this.#opts = options;
  }

  get size(): number {
    return this.#clients.size;
  }

  /** Take a request as a live client; false when the hub is full or closed (caller answers 503). */
  accept(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.#closed || this.#clients.size >= this.#opts.maxClients) return false;
    res.writeHead(200, {
      ...BASE_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.#clients.add(res);
    const drop = () => this.#drop(res);
    req.on('close', drop);
    res.on('error', drop);
    if (!this.#heartbeat) {
      this.#heartbeat = setInterval(() => this.#write(': ping\n\n'), this.#opts.heartbeatMs ?? 15_000);
      this.#heartbeat.unref();
    }
    void this.#snapshot().then((frame) => frame && this.#writeTo(res, frame));
    return true;
  }

  /** Something changed: schedule a snapshot for every client. */
  notify(): void {
    if (this.#closed || this.#clients.size === 0 || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#broadcast();
    }, this.#opts.debounceMs);
  }

  /** Accept clients again after `close()` (the API was restarted). */
  open(): void {
    this.#closed = false;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#timer = this.#heartbeat = undefined;
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  async #broadcast(): Promise<void> {
    if (this.#sending) {
      this.#pending = true;
      return;
    }
    this.#sending = true;
    try {
      const frame = await this.#snapshot();
      if (frame) this.#write(frame);
    } finally {
      this.#sending = false;
      if (this.#pending) {
        this.#pending = false;
        this.notify();
      }
    }
  }

  async #snapshot(): Promise<string | undefined> {
    try {
      const data = await this.#opts.snapshot();
      return `event: snapshot\ndata: ${JSON.stringify(data)}\n\n`;
    } catch (err) {
      this.#opts.logger.warn({ err }, 'live update: building the status snapshot failed');
      return undefined;
    }
  }

  #write(frame: string): void {
    for (const res of this.#clients) this.#writeTo(res, frame);
  }

  #writeTo(res: ServerResponse, frame: string): void {
    if (!this.#clients.has(res)) return;
    if (res.writableLength > MAX_BUFFERED) {
      res.destroy();
      this.#drop(res);
      return;
    }
    res.write(frame);
  }

  #drop(res: ServerResponse): void {
    this.#clients.delete(res);
    if (this.#clients.size === 0 && this.#heartbeat) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }
}
