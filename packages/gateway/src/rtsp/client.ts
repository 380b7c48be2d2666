import { connect, type Socket } from 'node:net';
import { getHeader, getHeaders } from './parser.js';

/** A parsed RTSP response. */
export interface RtspResponse {
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

export type ResponseOutcome = { kind: 'incomplete' } | { kind: 'response'; response: RtspResponse; consumed: number } | { kind: 'error'; message: string };

/** Parse one RTSP response from the start of `buf` (bounded by `maxBytes`). */
export function parseResponse(buf: Buffer, maxBytes = 65_536): ResponseOutcome {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return buf.length > maxBytes ? { kind: 'error', message: 'response headers too large' } : { kind: 'incomplete' };
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const m = /^RTSP\/1\.\d (\d{3}) ?(.*)$/.exec(lines[0] ?? '');
  if (!m) return { kind: 'error', message: 'not an RTSP response' };
  const headers: Array<[string, string]> = [];
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c > 0) headers.push([l.slice(0, c).trim(), l.slice(c + 1).trim()]);
  }
  const len = Number(getHeader({ headers }, 'content-length') ?? '0');
  if (!Number.isInteger(len) || len < 0 || len > maxBytes) return { kind: 'error', message: 'bad Content-Length' };
  if (buf.length < end + 4 + len) return { kind: 'incomplete' };
  const body = Buffer.from(buf.subarray(end + 4, end + 4 + len));
  return { kind: 'response', response: { status: Number(m[1]), reason: m[2] ?? '', headers, body }, consumed: end + 4 + len };
}

/**
 * A minimal RTSP client connection for probes and tests: send a request, read its response (the
 * one with its CSeq; an answer to an earlier request is dropped). Every socket is destroyed on
 * `close()`, on abort and on error; nothing is left open. Opened with `keep`, the open's signal ends
 * with the connect: a kept connection outlives the probe that opened it (its owner ends it).
 */
export class RtspClientConnection {
  readonly #socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #waiter: (() => void) | undefined;
  #error: Error | undefined;
  #cseq = 0;
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
      this.#wake();
    });
    socket.on('error', (e) => this.#fail(e));
    socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  /** False once closed, failed or ended by the other side. */
  get open(): boolean {
    return !this.#closed && this.#error === undefined && !this.#socket.destroyed;
  }

  /** Let an idle connection not hold the process open (`unref`), or hold it again while asking. */
  hold(on: boolean): void {
    if (on) this.#socket.ref();
    else this.#socket.unref();
  }

  /** This side's address (what the server sees, unless a NAT is between). */
  get localAddress(): string | undefined {
    return this.#socket.localAddress;
  }

  static open(host: string, port: number, signal?: AbortSignal, keep = false): Promise<RtspClientConnection> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      const onAbort = () => {
        socket.destroy();
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        const conn = new RtspClientConnection(socket);
        if (signal) {
          signal.removeEventListener('abort', onAbort);
          if (!keep) signal.addEventListener('abort', () => conn.#fail(abortError(signal)), { once: true });
        }
        resolve(conn);
      });
      socket.once('error', (e) => {
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(e);
      });
    });
  }

  #fail(e: Error): void {
    this.#error ??= e;
    this.#socket.destroy();
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /** Send one request and read its answer (an answer with another CSeq, to an earlier request, is dropped). */
  async request(method: string, uri: string, headers: Array<[string, string]> = []): Promise<RtspResponse> {
    if (this.#error) throw this.#error;
    const cseq = String(++this.#cseq);
    let req = `${method} ${uri} RTSP/1.0\r\nCSeq: ${cseq}\r\n`;
    for (const [k, v] of headers) req += `${k}: ${v}\r\n`;
    this.#socket.write(`${req}\r\n`);
    for (;;) {
      const out = parseResponse(this.#buf);
      if (out.kind === 'response') {
        this.#buf = this.#buf.subarray(out.consumed);
        const got = getHeader(out.response, 'cseq');
        if (got !== undefined && got !== cseq) continue;
        return out.response;
      }
      if (out.kind === 'error') {
        this.close();
        throw new Error(out.message);
      }
      if (this.#error) throw this.#error;
      await new Promise<void>((r) => (this.#waiter = () => r()));
    }
  }

  close(): void {
    this.#closed = true;
    this.#error ??= new Error('closed');
    this.#socket.destroy();
  }
}

function abortError(signal: AbortSignal | undefined): Error {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r : new Error('aborted');
}

export { getHeader, getHeaders };
