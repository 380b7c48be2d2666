import { Writable } from 'node:stream';

/** What a log sink has done since it was made: lines written, lines dropped, bytes waiting. */
export interface LogStats {
  /** Lines handed to the output stream. */
  written: number;
  /** Lines dropped because the reader did not keep up (or the output broke). */
  dropped: number;
  /** Bytes of the lines written and of those dropped. */
  writtenBytes: number;
  droppedBytes: number;
  /** Bytes the output stream holds that its reader has not taken yet. */
  pendingBytes: number;
}

/** The output a sink writes to: process.stdout by default. */
export interface LogOutput {
  write(chunk: string): boolean;
  readonly writableLength: number;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface LogSinkOptions {
  /** Where lines go. Default `process.stdout` (asynchronous for pipes and sockets on Linux). */
  output?: LogOutput;
  /** Most bytes the output may hold unread before new lines are dropped. Default 1 MiB. */
  maxPendingBytes?: number;
}

/**
 * The log's way out, bounded and never blocking: each line goes to an asynchronous stream, and
 * while the stream's reader does not keep up (a stalled log collector, a paused `| less`) new lines
 * are dropped and counted instead of queued without bound. pino's own default destination writes
 * synchronously and, on a full pipe, waits with Atomics.wait until the reader takes the bytes: one
 * stalled reader then freezes the event loop (control API, gateways, even a stop on SIGTERM).
 */
export class LogSink {
  readonly #output: LogOutput;
  readonly #max: number;
  #written = 0;
  #dropped = 0;
  #writtenBytes = 0;
  #droppedBytes = 0;
  #broken = false;

  constructor(options: LogSinkOptions = {}) {
    this.#output = options.output ?? process.stdout;
    this.#max = options.maxPendingBytes ?? 1024 * 1024;
    // A reader that went away (EPIPE) must not crash the Haven: the rest of the log is dropped.
    this.#output.on('error', () => {
      this.#broken = true;
    });
  }

  /** pino's destination contract: one call per line, never blocks. */
  write(line: string): void {
    if (this.#broken || this.#output.writableLength + line.length > this.#max) {
      this.#dropped++;
      this.#droppedBytes += Buffer.byteLength(line);
      return;
    }
    this.#written++;
    this.#writtenBytes += Buffer.byteLength(line);
    this.#output.write(line);
  }

  stats(): LogStats {
    return { written: this.#written, dropped: this.#dropped, writtenBytes: this.#writtenBytes, droppedBytes: this.#droppedBytes, pendingBytes: this.#output.writableLength };
  }

  /**
   * The sink as a Writable that accepts every chunk at once, for writers that pipe (pino-pretty):
   * piping into the output itself would queue without bound behind a stalled reader.
   */
  asWritable(): Writable {
    return new Writable({
      write: (chunk: Buffer | string, _enc, cb) => {
        this.write(typeof chunk === 'string' ? chunk : chunk.toString());
        cb();
      },
    });
  }
}

const SINK = Symbol.for('haven.logSink');

/** Ties a sink to a logger; children find it through their prototype chain (pino children inherit). */
export function attachLogSink(logger: object, sink: LogSink): void {
  Object.defineProperty(logger, SINK, { value: sink, enumerable: false });
}

/** The stats of the sink behind a logger (or any of its children), if it has one. */
export function logStats(logger: object): LogStats | undefined {
  const sink = (logger as { [SINK]?: LogSink })[SINK];
  return sink?.stats();
}
