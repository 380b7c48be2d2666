import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { LogSink, logStats, type LogOutput } from './log-sink.js';

/** An output whose reader took nothing yet: every byte written stays pending until `drain()`. */
function stalledOutput() {
  const ee = new EventEmitter();
  const out = {
    pending: 0,
    lines: [] as string[],
    write(chunk: string) {
      out.pending += chunk.length;
      out.lines.push(chunk);
      return false;
    },
    get writableLength() {
      return out.pending;
    },
    on: (event: 'error', fn: (err: Error) => void) => ee.on(event, fn),
    drain: () => (out.pending = 0),
    fail: () => ee.emit('error', new Error('EPIPE')),
  };
  return out satisfies LogOutput;
}

describe('LogSink', () => {
  it('writes while the reader keeps up, then drops and counts without queueing past the bound', () => {
    const out = stalledOutput();
    const sink = new LogSink({ output: out, maxPendingBytes: 1000 });
    const line = `${'x'.repeat(99)}\n`;
    for (let i = 0; i < 50; i++) sink.write(line);
    expect(sink.stats()).toEqual({ written: 10, dropped: 40, writtenBytes: 1000, droppedBytes: 4000, pendingBytes: 1000 });
    out.drain();
    sink.write(line);
    expect(sink.stats().written).toBe(11);
    expect(out.lines).toHaveLength(11);
  });

  it('drops everything after the output broke (EPIPE) instead of throwing', () => {
    const out = stalledOutput();
    const sink = new LogSink({ output: out });
    out.fail();
    expect(() => sink.write('a\n')).not.toThrow();
    expect(sink.stats()).toMatchObject({ written: 0, dropped: 1 });
  });

  it('a logger made on a sink reports its counts, from any child', () => {
    const out = stalledOutput();
    const sink = new LogSink({ output: out, maxPendingBytes: 400 });
    const log = createLogger({ sink, level: 'info' });
    const child = log.child({ area: 'api' }).child({ plugin: 'x' });
    for (let i = 0; i < 20; i++) child.info({ i }, 'a line of about a hundred bytes once pino adds its fields');
    const stats = logStats(child);
    expect(stats?.written).toBeGreaterThan(0);
    expect(stats?.dropped).toBeGreaterThan(0);
    expect(stats!.written + stats!.dropped).toBe(20);
    expect(stats!.pendingBytes).toBeLessThanOrEqual(400);
  });

  it('a logger on a caller-given destination has no sink to report', () => {
    const log = createLogger({ destination: { write: () => {} } });
    expect(logStats(log)).toBeUndefined();
  });
});
