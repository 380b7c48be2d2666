import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { HavenError } from './errors.js';
import { createLogger, SecretRedactor } from './logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, destination };
}

describe('logger redaction', () => {
  const secret = 'Zq7vL2mN9pR4sT6uW8xY';
  const streamKey = 'Kk3Jj4Hh5Gg6Ff7Dd8Ss9Aa0Pp1Oo2Ii';

  it('redacts secrets by key, at any depth we log', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, level: 'info' });
    log.info({ password: 'a', streamKey: 'b', nested: { viewerPassword: 'c', deeper: { privateKey: 'd' } }, headers: { authorization: 'Basic x' } }, 'hello');
    const out = lines.join('');
    expect(out).toContain('hello');
    expect(out).not.toMatch(/"(a|b|c|d)"/);
    expect(out).not.toContain('Basic x');
    expect(out.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(5);
  });

  it('redacts known secret values anywhere: messages, URLs, errors, percent-encoded', () => {
    const redactor = new SecretRedactor();
    redactor.add(secret);
    redactor.add(streamKey);
    const { lines, destination } = capture();
    const log = createLogger({ destination, redactor, level: 'debug' });
    log.info(`publishing to rtmp://h/live?user=publisher&pass=${streamKey}`);
    log.debug({ url: `rtsp://viewer:${secret}@127.0.0.1/live` }, 'probe');
    log.error({ err: new HavenError(`failed with ${secret}`, { code: 'X', cause: new Error(`inner ${streamKey}`) }) }, 'boom');
    log.warn({ q: encodeURIComponent(`${secret}`) }, 'encoded');
    const out = lines.join('');
    expect(out).not.toContain(secret);
    expect(out).not.toContain(streamKey);
    expect(out).toContain('[redacted]');
    expect(out).toContain('rtmp://h/live?user=publisher&pass=[redacted]');
  });

  it('does not mask short ordinary words', () => {
    const redactor = new SecretRedactor();
    redactor.add('abc');
    expect(redactor.redact('abc def')).toBe('abc def');
  });

  it('honours the level from config', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, level: 'warn' });
    log.info('quiet');
    log.warn('loud');
    expect(lines.join('')).not.toContain('quiet');
    expect(lines.join('')).toContain('loud');
  });
});

/** Fails on a key that appears twice in one object of a JSON line (JSON is YAML 1.2; yaml checks keys). */
function assertUniqueKeys(line: string): void {
  const doc = parseDocument(line, { uniqueKeys: true });
  const dup = doc.errors.find((e) => e.code === 'DUPLICATE_KEY');
  if (dup) throw new Error(`duplicate key in ${line}`);
  if (doc.errors.length > 0) throw new Error(`not JSON: ${line}`);
}

describe('logger: every line has unique keys', () => {
  it('a child re-binding a key its parent has (same value) writes it once', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, name: 'haven-origin' });
    log.child({ area: 'api' }).child({ area: 'api' }).info({ x: 1 }, 'hello');
    const line = lines[0]!;
    expect(() => assertUniqueKeys(line)).not.toThrow();
    expect(JSON.parse(line)).toMatchObject({ name: 'haven-origin', area: 'api', x: 1, msg: 'hello' });
  });

  it('a child changing a bound value: the new value, once; a call field clashing with the logger name is kept as <key>Arg', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, name: 'haven-origin' });
    const api = log.child({ plugin: 'mediamtx', area: 'api' });
    api.child({ area: 'report', extra: true }).warn('moved');
    log.info({ role: 'origin', name: 'origin' }, 'haven running');
    api.info({ area: 'api', plugin: 'other' }, 'same and different');
    for (const line of lines) expect(() => assertUniqueKeys(line), line).not.toThrow();
    expect(JSON.parse(lines[0]!)).toMatchObject({ name: 'haven-origin', plugin: 'mediamtx', area: 'report', extra: true, msg: 'moved' });
    expect(JSON.parse(lines[1]!)).toMatchObject({ name: 'haven-origin', role: 'origin', nameArg: 'origin' });
    const third = JSON.parse(lines[2]!) as Record<string, unknown>;
    expect(third).toMatchObject({ area: 'api', plugin: 'mediamtx', pluginArg: 'other' });
    expect(third).not.toHaveProperty('areaArg');
  });

  it('a call field named like a key pino writes itself (level, time, msg) is kept as <key>Arg', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, name: 'haven-origin' });
    log.child({ area: 'ingest' }).info({ stream: 'live', level: 'breaks', time: 3, msg: 'x' }, 'checked');
    const line = lines[0]!;
    expect(() => assertUniqueKeys(line)).not.toThrow();
    expect(JSON.parse(line)).toMatchObject({ level: 30, levelArg: 'breaks', timeArg: 3, msgArg: 'x', msg: 'checked' });
  });

  it('the checker itself catches a duplicate key (raw pino without the fix would fail it)', () => {
    expect(() => assertUniqueKeys('{"level":30,"area":"api","area":"api"}')).toThrow(/duplicate key/);
    expect(() => assertUniqueKeys('{"a":{"b":1},"b":[{"b":2},{"b":3}],"c":"{\\"a\\":1,\\"a\\":2}"}')).not.toThrow();
  });

  it('child levels still follow their own option, and redaction still applies to children', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, level: 'info' });
    const quiet = log.child({ area: 'x' }, { level: 'warn' });
    quiet.info('not written');
    quiet.child({ area: 'y' }).info({ password: 'hunter2hunter2' }, 'written?');
    quiet.child({ area: 'y' }).warn({ password: 'hunter2hunter2' }, 'written');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['written']);
    expect(lines[0]).not.toContain('hunter2');
  });
});
