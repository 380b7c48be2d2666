import { describe, expect, it } from 'vitest';
import { AuthInjector } from './injector.js';
import { DEFAULT_RTSP_LIMITS } from '../rtsp/parser.js';

async function through(chunks: Buffer[]): Promise<string> {
  const t = new AuthInjector((r) => `Basic proof-for-${r.method}`, DEFAULT_RTSP_LIMITS);
  const out: Buffer[] = [];
  t.on('data', (d: Buffer) => out.push(d));
  for (const c of chunks) t.write(c);
  t.end();
  await new Promise((r) => t.once('end', r));
  return Buffer.concat(out).toString('latin1');
}

describe('AuthInjector', () => {
  it('replaces Authorization on every request, split anywhere, and passes interleaved frames untouched', async () => {
    const setup = 'SETUP rtsp://h/live/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nAuthorization: Basic dmlld2VyOnNlY3JldA==\r\n\r\n';
    const frame = Buffer.from([0x24, 1, 0, 4, 0xde, 0xad, 0x0d, 0x0a]);
    const play = 'PLAY rtsp://h/live/ RTSP/1.0\r\nCSeq: 4\r\n\r\n';
    const all = Buffer.concat([Buffer.from(setup), frame, Buffer.from(play)]);
    const out = await through([all.subarray(0, 17), all.subarray(17, 90), all.subarray(90)]);
    expect(out).not.toContain('dmlld2VyOnNlY3JldA==');
    expect(out).toContain('SETUP rtsp://h/live/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nAuthorization: Basic proof-for-SETUP\r\n\r\n');
    expect(out).toContain(frame.toString('latin1'));
    expect(out.endsWith('PLAY rtsp://h/live/ RTSP/1.0\r\nCSeq: 4\r\nAuthorization: Basic proof-for-PLAY\r\n\r\n')).toBe(true);
  });

  it('ends the connection on garbage', async () => {
    const t = new AuthInjector(() => undefined, DEFAULT_RTSP_LIMITS);
    const err = new Promise<Error>((r) => t.once('error', r));
    t.write(Buffer.from('\x01\x02 nonsense\r\n\r\n'));
    expect((await err).message).toMatch(/unparsable/);
  });
});
