import { createLogger, LogSink, SecretRedactor, type Logger } from '@haven/core';
import { PinoPretty } from 'pino-pretty';

export interface TerminalLog {
  logger: Logger;
  /** Shared with the Haven, which registers every secret here: masked in both output forms. */
  redactor: SecretRedactor;
  pretty: boolean;
}

/**
 * The log of `haven start`: human-readable lines (pino-pretty) on a terminal, JSON lines when
 * stdout is a pipe or a file (or with `--json-logs`), for log collectors. Secrets are masked
 * before either form is written.
 */
export function terminalLog(o: { level: string; name: string; json: boolean; isTTY?: boolean }): TerminalLog {
  const redactor = new SecretRedactor();
  const pretty = !o.json && (o.isTTY ?? process.stdout.isTTY === true);
  // Both forms go through one bounded sink: a stalled reader drops (and counts) lines, never blocks.
  const sink = new LogSink();
  const destination = pretty
    ? PinoPretty({ colorize: true, destination: sink.asWritable(), translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', singleLine: true })
    : undefined;
  return { logger: createLogger({ level: o.level, redactor, name: o.name, sink, ...(destination ? { destination } : {}) }), redactor, pretty };
}
