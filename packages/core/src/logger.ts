import { pino, type DestinationStream, type Logger as PinoLogger, type LoggerOptions } from 'pino';
import { attachLogSink, LogSink } from './log-sink.js';

export type Logger = PinoLogger;

/** Keys whose values are always replaced, at any depth we know of. */
export const SECRET_KEYS = [
  'password',
  'pass',
  'passwd',
  'secret',
  'token',
  'authorization',
  'streamKey',
  'viewerPassword',
  'relayPassword',
  'privateKey',
  'presharedKey',
  'stream_key',
  'private_key',
] as const;

const REDACTED = '[redacted]';

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const k of SECRET_KEYS) {
    paths.push(k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`);
  }
  paths.push('headers.authorization', 'req.headers.authorization', '*.headers.authorization');
  return paths;
}

/**
 * Replaces known secret values anywhere in text. Core registers every generated secret here, so a
 * secret that ends up inside a message, a URL or an error string is still masked.
 */
export class SecretRedactor {
  #values = new Set<string>();
  #pattern: RegExp | undefined;

  add(value: string | undefined): void {
    // Short values would mask ordinary words; generated secrets are long.
    if (!value || value.length < 8 || this.#values.has(value)) return;
    this.#values.add(value);
    this.#pattern = undefined;
  }

  remove(value: string): void {
    if (this.#values.delete(value)) this.#pattern = undefined;
  }

  get size(): number {
    return this.#values.size;
  }

  redact(text: string): string {
    if (this.#values.size === 0) return text;
    if (!this.#pattern) {
      const escaped = [...this.#values]
        .sort((a, b) => b.length - a.length)
        .flatMap((v) => [v, encodeURIComponent(v)])
        .map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      this.#pattern = new RegExp([...new Set(escaped)].join('|'), 'g');
    }
    return text.replace(this.#pattern, REDACTED);
  }
}

export interface CreateLoggerOptions {
  level?: LoggerOptions['level'];
  redactor?: SecretRedactor;
  /** Where lines go; default a bounded, never-blocking sink on stdout. Tests pass a stream to read what was written. */
  destination?: DestinationStream;
  /**
   * The sink whose counts `logStats(logger)` reports (lines dropped while the reader stalled). Default:
   * a new sink on stdout when there is no `destination`; pass the one a `destination` writes through.
   */
  sink?: LogSink;
  name?: string;
}

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

/**
 * pino writes a child's bindings after its parent's and a call's fields after both, without
 * looking at what is already there: `child({ area: 'api' })` of a logger bound to `area: 'api'`
 * wrote `"area":"api","area":"api"`. Every line must be valid JSON with unique keys, so:
 * a child drops bindings its parent already has with the same value, and a child that changes a
 * bound value is made from the root with the merged bindings; a call's field equal to a binding
 * is dropped, and one that differs is written as `<key>Arg` (e.g. a Haven's `name` next to the
 * logger's `name`).
 */
function uniqueKeys(root: Logger, logger: Logger, pinoChild: Logger['child'] = root.child): Logger {
  // A pino child is created with the parent as its prototype: call pino's own child on this logger.
  const child = (b: Record<string, unknown>, o?: Parameters<Logger['child']>[1]) => pinoChild.call(logger, b, o);
  logger.child = ((bindings: Record<string, unknown>, opts?: Parameters<Logger['child']>[1]) => {
    const have = logger.bindings();
    const fresh: Record<string, unknown> = {};
    let changed = false;
    for (const [k, v] of Object.entries(bindings)) {
      if (!(k in have)) fresh[k] = v;
      else if (!same(have[k], v)) changed = true;
    }
    if (!changed) return uniqueKeys(root, child(fresh, opts) as unknown as Logger, pinoChild);
    const rootKeys = root.bindings();
    const merged: Record<string, unknown> = {};
    for (const [k, v] of Object.entries({ ...have, ...bindings })) {
      if (k in rootKeys) {
        if (!same(rootKeys[k], v)) merged[`${k}Arg`] = v;
      } else merged[k] = v;
    }
    return uniqueKeys(root, pinoChild.call(root, merged, { level: logger.level, ...opts }) as unknown as Logger, pinoChild);
  }) as unknown as Logger['child'];
  return logger;
}

/** Keys pino writes on every line itself: a call's field of the same name is written as `<key>Arg`. */
const LINE_KEYS = new Set(['level', 'time', 'msg']);

function dedupeCallFields(this: Logger, args: unknown[]): unknown[] {
  const obj = args[0];
  if (!obj || typeof obj !== 'object' || obj instanceof Error || Array.isArray(obj)) return args;
  const bound = this.bindings();
  let copy: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(obj)) {
    const own = LINE_KEYS.has(k);
    if (!own && !(k in bound)) continue;
    copy ??= { ...(obj as Record<string, unknown>) };
    delete copy[k];
    if (own || !same(bound[k], v)) copy[`${k}Arg`] = v;
  }
  return copy ? [copy, ...args.slice(1)] : args;
}

/** Structured JSON logger with secrets redacted by key and by value, and unique keys on every line. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const redactor = options.redactor;
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { name: options.name ?? 'haven' },
    redact: { paths: redactPaths(), censor: REDACTED },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    hooks: {
      logMethod(args, method) {
        return method.apply(this, dedupeCallFields.call(this, args) as Parameters<typeof method>);
      },
      ...(redactor ? { streamWrite: (line: string) => redactor.redact(line) } : {}),
    },
  };
  const sink = options.sink ?? (options.destination ? undefined : new LogSink());
  const root = pino(opts, options.destination ?? sink!);
  if (sink) attachLogSink(root, sink);
  return uniqueKeys(root, root);
}
