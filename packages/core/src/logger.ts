import { pino, type DestinationStream, type Logger as PinoLogger, type LoggerOptions } from 'pino';

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
  /** Where lines go; default stdout. Tests pass a stream to read what was written. */
  destination?: DestinationStream;
  name?: string;
}

/** Structured JSON logger with secrets redacted by key and by value. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const redactor = options.redactor;
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { name: options.name ?? 'haven' },
    redact: { paths: redactPaths(), censor: REDACTED },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  if (redactor) {
    opts.hooks = { streamWrite: (line: string) => redactor.redact(line) };
  }
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
