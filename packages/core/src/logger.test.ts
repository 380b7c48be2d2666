import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
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
