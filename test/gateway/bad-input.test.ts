import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/process.js';
import { basic, exchange, fakeRtspNode, harness, recorder, statuses, type Harness } from './fakes.js';

// Hostile input against the gateway in this process: each is answered with the right status or
// closed, and a well-behaved viewer is still served afterwards.

const describeReq = (cseq: number, auth?: string, ua = 'Lavf/60') =>
  `DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: ${cseq}\r\nUser-Agent: ${ua}\r\n${auth ? `Authorization: ${auth}\r\n` : ''}\r\n`;

describe('RTSP gateway: bad input', () => {
  let h: Harness;
  let node: Awaited<ReturnType<typeof fakeRtspNode>>;
  let origin: Awaited<ReturnType<typeof recorder>>;

  beforeAll(async () => {
    node = await fakeRtspNode();
    origin = await recorder();
    h = await harness({
      nodes: [{ name: 'par', port: node.port, lat: 48.86, lon: 2.35 }],
      splicePort: origin.port,
      gateway: { firstRequestTimeoutMs: 400, maxAuthFailuresPerMinute: 5, maxConnections: 300, maxHeaderBytes: 4096, maxHeaders: 32 },
    });
  });
  afterAll(async () => {
    await h.stop();
    await node.close();
    await origin.close();
  });

  const wellBehaved = async () => {
    const r = await exchange(h.port, [describeReq(1, basic())]);
    expect(statuses(r.text)).toEqual([302]);
  };

  it('garbage and binary get 400 and a close, at once', async () => {
    for (const bytes of [Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01]), Buffer.from('\x00\x01\x02garbage'), Buffer.from('hello world\r\n\r\n')]) {
      const r = await exchange(h.port, [bytes]);
      expect(r.closed).toBe(true);
      expect(statuses(r.text)).toEqual([400]);
    }
    await wellBehaved();
  });

  it('a request line without version gets 400', async () => {
    const r = await exchange(h.port, ['DESCRIBE rtsp://127.0.0.1/live\r\nCSeq: 1\r\n\r\n']);
    expect(statuses(r.text)).toEqual([400]);
    expect(r.closed).toBe(true);
  });

  it('a 1 MB header is cut off with 400 long before it ends', async () => {
    const r = await exchange(h.port, [`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Big: ${'a'.repeat(1_048_576)}\r\n\r\n`]);
    expect(statuses(r.text)).toEqual([400]);
    expect(r.closed).toBe(true);
    await wellBehaved();
  });

  it('10,000 headers get 400', async () => {
    const r = await exchange(h.port, [`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n${'X: y\r\n'.repeat(10_000)}\r\n`]);
    expect(statuses(r.text)).toEqual([400]);
    expect(r.closed).toBe(true);
  });

  it('a slow client (one byte at a time) gets 408 and is closed', async () => {
    const bytes = [...'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n'];
    const r = await exchange(h.port, bytes, { gapMs: 100, untilMs: 10_000 });
    expect(statuses(r.text)).toEqual([408]);
    expect(r.closed).toBe(true);
  });

  it('a flood of idle connections from one address does not starve other viewers', async () => {
    const flood: Socket[] = [];
    await Promise.all(
      Array.from({ length: 100 }, () =>
        new Promise<void>((resolve) => {
          const s = connect({ host: '127.0.0.1', port: h.port, localAddress: '127.0.0.2' });
          s.on('error', () => {});
          s.on('connect', () => resolve());
          s.on('close', () => resolve());
          flood.push(s);
        }),
      ),
    );
    // One address holds at most gateway.maxUndecidedPerAddress (16) undecided connections; the rest
    // were refused, or waited for a slot (and took one as an idle one was closed at its deadline).
    const seen = () => {
      const st = h.stack.rtspGateway.stats();
      return st.rejectedConnections + st.budget.waiting + st.budget.waited >= 84;
    };
    await waitFor('the gateway to see the flood', seen);
    expect(h.stack.rtspGateway.stats().undecided).toBeLessThanOrEqual(16);
    await wellBehaved();
    for (const s of flood) s.destroy();
  });

  it('wrong passwords in a loop: 401 until the limit, then 403 and closed, per IP', async () => {
    const wrong = basic('viewer', 'WrongPassword123');
    const r = await exchange(h.port, [[1, 2, 3, 4, 5, 6].map((i) => describeReq(i, wrong)).join('')], { localAddress: '127.0.0.3' });
    expect(statuses(r.text)).toEqual([401, 401, 401, 401, 403]);
    expect(r.closed).toBe(true);
    const again = await exchange(h.port, [describeReq(1, basic())], { localAddress: '127.0.0.3' });
    expect(statuses(again.text)).toEqual([403]);
    expect(h.refused.filter((e) => e.reason === 'rate-limited').length).toBeGreaterThanOrEqual(2);
    await wellBehaved(); // 127.0.0.1 is not affected
  });

  it('too many requests before a decision get 400', async () => {
    const r = await exchange(h.port, [Array.from({ length: 20 }, (_, i) => `OPTIONS * RTSP/1.0\r\nCSeq: ${i}\r\nUser-Agent: Lavf\r\n\r\n`).join('')]);
    expect(statuses(r.text).at(-1)).toBe(400);
    expect(r.closed).toBe(true);
  });
});
