import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkNeedsParse, DEFAULT_RTSP_LIMITS, getHeader, parseRequest, type RtspLimits } from './parser.js';

const L: RtspLimits = { ...DEFAULT_RTSP_LIMITS, maxHeaderBytes: 1024, maxHeaders: 8 };
const b = (s: string) => Buffer.from(s, 'latin1');

describe('parseRequest', () => {
  it('parses a request with headers and a body', () => {
    const out = parseRequest(b('DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 2\r\nUser-Agent: Lavf/60\r\nContent-Length: 3\r\n\r\nabcNEXT'), L);
    expect(out.kind).toBe('request');
    if (out.kind !== 'request') return;
    expect(out.request).toMatchObject({ method: 'DESCRIBE', uri: 'rtsp://h/live', version: 'RTSP/1.0' });
    expect(getHeader(out.request, 'user-agent')).toBe('Lavf/60');
    expect(out.request.body.toString()).toBe('abc');
    expect(out.consumed).toBe(out.consumed);
    expect(b('DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 2\r\nUser-Agent: Lavf/60\r\nContent-Length: 3\r\n\r\nabc').length).toBe(out.consumed);
  });

  it('handles pipelined requests one at a time, and leading blank lines', () => {
    let buf = b('\r\nOPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\nDESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 2\r\n\r\n');
    const seen: string[] = [];
    for (;;) {
      const out = parseRequest(buf, L);
      if (out.kind !== 'request') break;
      seen.push(`${out.request.method} ${getHeader(out.request, 'cseq')}`);
      buf = buf.subarray(out.consumed);
    }
    expect(seen).toEqual(['OPTIONS 1', 'DESCRIBE 2']);
    expect(buf.length).toBe(0);
  });

  it('accepts bare LF line endings', () => {
    expect(parseRequest(b('OPTIONS * RTSP/1.0\nCSeq: 1\n\n'), L).kind).toBe('request');
  });

  it('answers the right status for bad input', () => {
    const status = (s: string | Buffer, l = L) => {
      const out = parseRequest(typeof s === 'string' ? b(s) : s, l);
      return out.kind === 'error' ? out.status : out.kind;
    };
    expect(status('DESCRIBE rtsp://h/live\r\nCSeq: 1\r\n\r\n')).toBe(400); // no version
    expect(status('DESCRIBE rtsp://h/live RTSP/2.0\r\nCSeq: 1\r\n\r\n')).toBe(505);
    expect(status('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(400);
    expect(status('DESCRIBE rtsp://h/live RTSP/1.0\r\n\r\n')).toBe(400); // no CSeq
    expect(status('DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\n folded\r\n\r\n')).toBe(400);
    expect(status('DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 99999\r\n\r\n')).toBe(413);
    expect(status('DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n')).toBe(400);
    expect(status(`DESCRIBE rtsp://h/${'a'.repeat(3000)} RTSP/1.0\r\nCSeq: 1\r\n\r\n`, { ...L, maxHeaderBytes: 8192 })).toBe(414);
    expect(status(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]))).toBe(400); // TLS hello: at the first byte
    expect(status('$\x00\x10abc')).toBe(400); // interleaved binary
    expect(status(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n${'X-A: 1\r\n'.repeat(9)}\r\n`)).toBe(400); // too many headers
    expect(status(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Big: ${'a'.repeat(2000)}`)).toBe(400); // headers too large, no end yet
    expect(status('\r\n'.repeat(600))).toBe(400);
  });

  it('waits for more bytes when a request is cut anywhere', () => {
    const full = b('DESCRIBE rtsp://h/live RTSP/1.0\r\nCSeq: 7\r\nContent-Length: 4\r\n\r\nbody');
    for (let i = 0; i < full.length; i++) expect(parseRequest(full.subarray(0, i), L).kind).toBe('incomplete');
    expect(parseRequest(full, L).kind).toBe('request');
  });

  it('property: any split of a valid request sequence parses to the same requests', () => {
    const req = fc.record({
      method: fc.constantFrom('OPTIONS', 'DESCRIBE', 'GET_PARAMETER', 'TEARDOWN'),
      path: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
      cseq: fc.integer({ min: 0, max: 99999 }),
      ua: fc.stringMatching(/^[ -~]{0,40}$/),
      body: fc.stringMatching(/^[ -~]{0,20}$/),
    });
    fc.assert(
      fc.property(fc.array(req, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 6 }), (reqs, cuts) => {
        const wire = b(
          reqs
            .map((r) => `${r.method} rtsp://h/${r.path} RTSP/1.0\r\nCSeq: ${r.cseq}\r\nUser-Agent: ${r.ua}\r\nContent-Length: ${r.body.length}\r\n\r\n${r.body}`)
            .join(''),
        );
        const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((x, y) => x - y);
        let buf = Buffer.alloc(0);
        let at = 0;
        const got: string[] = [];
        for (const p of [...points, wire.length]) {
          buf = Buffer.concat([buf, wire.subarray(at, p)]);
          at = p;
          for (;;) {
            const out = parseRequest(buf, L);
            if (out.kind === 'error') throw new Error(out.message);
            if (out.kind === 'incomplete') break;
            got.push(`${out.request.method}|${getHeader(out.request, 'cseq')}|${out.request.body.toString('latin1')}`);
            buf = buf.subarray(out.consumed);
          }
        }
        expect(got).toEqual(reqs.map((r) => `${r.method}|${r.cseq}|${r.body}`));
        expect(buf.length).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('property: arbitrary bytes never throw, and an error or request comes before the header limit is passed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        const buf = Buffer.from(bytes);
        const out = parseRequest(buf, L);
        if (out.kind === 'incomplete') expect(buf.length).toBeLessThan(L.maxHeaderBytes + L.maxBodyBytes + 2);
        if (out.kind === 'request') expect(out.consumed).toBeLessThanOrEqual(buf.length);
      }),
      { numRuns: 500 },
    );
  });

  it('property: binary in the request line is rejected as soon as it arrives', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z]{0,8}$/), fc.integer({ min: 0, max: 31 }).filter((c) => c !== 10 && c !== 13), (prefix, ctl) => {
        const out = parseRequest(Buffer.concat([b(prefix), Buffer.from([ctl])]), L);
        expect(out.kind).toBe('error');
      }),
    );
  });

  it('property: header lines beyond the limit are refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 9, max: 200 }), (n) => {
        const out = parseRequest(b(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n${'A: b\r\n'.repeat(n)}\r\n`), { ...L, maxHeaderBytes: 65_536 });
        expect(out.kind === 'error' && out.status === 400).toBe(true);
      }),
    );
  });

  it('chunkNeedsParse is true for line ends and control bytes only', () => {
    expect(chunkNeedsParse(b('abc'))).toBe(false);
    expect(chunkNeedsParse(b('abc\r'))).toBe(false);
    expect(chunkNeedsParse(b('abc\n'))).toBe(true);
    expect(chunkNeedsParse(Buffer.from([0x00]))).toBe(true);
  });
});
