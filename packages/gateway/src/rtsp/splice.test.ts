import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spliceTo } from './splice.js';

// A local "media server" and a local "gateway" handing each accepted viewer to it.
let media: Server;
let gateway: Server;
let mediaPort = 0;
let gatewayPort = 0;
const counts = { open: 0, close: 0, fail: 0 };
const mediaSockets = new Set<Socket>();

async function until(cond: () => boolean, ms = 4_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not reached: ${JSON.stringify(counts)} media=${mediaSockets.size}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  media = createServer((s) => {
    mediaSockets.add(s);
    s.resume();
    s.on('error', () => {});
    s.once('close', () => mediaSockets.delete(s));
  }).listen(0, '127.0.0.1');
  await once(media, 'listening');
  mediaPort = (media.address() as { port: number }).port;
  let accepted = 0;
  gateway = createServer((viewer) => {
    viewer.on('error', () => viewer.destroy());
    const resetWhileDialing = accepted++ % 3 === 1;
    spliceTo(viewer, {
      host: '127.0.0.1',
      port: mediaPort,
      replay: Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n'),
      proxyProtocol: false,
      onOpen: () => counts.open++,
      onFail: () => counts.fail++,
      onClose: () => counts.close++,
    });
    // The viewer's reset arrives while the gateway is still dialing the media server.
    if (resetWhileDialing) viewer.destroy();
  }).listen(0, '127.0.0.1');
  await once(gateway, 'listening');
  gatewayPort = (gateway.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of mediaSockets) s.destroy();
  await new Promise((r) => gateway.close(r));
  await new Promise((r) => media.close(r));
});

describe('spliceTo', () => {
  it('counts each viewer once: opens and closes balance when viewers reset first, before or after the splice opened', async () => {
    const viewers: Socket[] = [];
    for (let i = 0; i < 60; i++) {
      const s = connect({ host: '127.0.0.1', port: gatewayPort });
      s.on('error', () => {});
      s.resume();
      viewers.push(s);
      // A third reset at once (often while the gateway still dials), the rest a little later.
      if (i % 3 === 0) s.once('connect', () => s.resetAndDestroy());
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const s of viewers) if (!s.destroyed) s.resetAndDestroy();
    await until(() => mediaSockets.size === 0 && counts.open === counts.close);
    expect(counts.open).toBe(counts.close);
    expect(counts.fail).toBe(0);
  });

  it('the media server closing first closes the viewer and counts the close once', async () => {
    const before = { ...counts };
    const s = connect({ host: '127.0.0.1', port: gatewayPort });
    s.on('error', () => {});
    s.resume();
    await until(() => counts.open === before.open + 1 && mediaSockets.size === 1);
    for (const m of mediaSockets) m.destroy();
    await once(s, 'close');
    await until(() => counts.close === before.close + 1);
    expect(counts.open - before.open).toBe(1);
  });
});

describe('spliceTo: the bytes', () => {
  it('reach a slow viewer intact and in order, with the count reported at close (reads reuse one buffer while the viewer keeps up)', async () => {
    const TOTAL = 6 * 1024 * 1024;
    const sent = createHash('sha256');
    // The server writes packets of varying size, as a media server writes RTP frames, then closes.
    const server = createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => {
        let left = TOTAL;
        let seed = 7;
        const pump = () => {
          while (left > 0) {
            seed = (seed * 1103515245 + 12345) >>> 0;
            const n = Math.min(left, 200 + (seed % 3000));
            const chunk = Buffer.alloc(n, seed & 0xff);
            chunk.writeUInt32BE(left, 0);
            sent.update(chunk);
            left -= n;
            if (!s.write(chunk)) return void s.once('drain', pump);
          }
          s.end();
        };
        pump();
      });
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    let closed: { toServer: number; toViewer: number } | undefined;
    const gw = createServer((viewer) => {
      spliceTo(viewer, {
        host: '127.0.0.1',
        port: (server.address() as { port: number }).port,
        replay: Buffer.from('PLAY\r\n'),
        proxyProtocol: false,
        onFail: () => {},
        onClose: (stats) => (closed = stats),
      });
    }).listen(0, '127.0.0.1');
    await once(gw, 'listening');
    const got = createHash('sha256');
    let bytes = 0;
    const v = connect({ host: '127.0.0.1', port: (gw.address() as { port: number }).port });
    // A viewer slower than the server at times: it stops reading for a while every ~512 KiB.
    let mark = 0;
    v.on('data', (d: Buffer) => {
      got.update(d);
      bytes += d.length;
      if (bytes - mark > 512 * 1024) {
        mark = bytes;
        v.pause();
        setTimeout(() => v.resume(), 30);
      }
    });
    await once(v, 'close');
    await until(() => closed !== undefined);
    gw.close();
    server.close();
    expect(bytes).toBe(TOTAL);
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    expect(closed?.toViewer).toBe(TOTAL);
  });
});

describe('spliceTo: a playing stream of small packets', () => {
  it('arrives whole and in order, each packet late by a few ms at most (reads gather packets once the stream plays)', async () => {
    const PACKETS = 300;
    const sentAt: number[] = [];
    // After a 64 KiB start (the setup exchange's worth), one 1,200-byte packet per ms, numbered.
    const server = createServer((s) => {
      s.on('error', () => {});
      s.once('data', async () => {
        s.write(Buffer.alloc(64 * 1024, 1));
        for (let i = 0; i < PACKETS; i++) {
          const p = Buffer.alloc(1200, 2);
          p.writeUInt32BE(i, 0);
          sentAt.push(performance.now());
          s.write(p);
          await new Promise((r) => setTimeout(r, 1));
        }
        s.end();
      });
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const gw = createServer((viewer) => {
      spliceTo(viewer, { host: '127.0.0.1', port: (server.address() as { port: number }).port, replay: Buffer.from('PLAY\r\n'), proxyProtocol: false, onFail: () => {} });
    }).listen(0, '127.0.0.1');
    await once(gw, 'listening');
    const v = connect({ host: '127.0.0.1', port: (gw.address() as { port: number }).port });
    let buf = Buffer.alloc(0);
    let start = 64 * 1024;
    const order: number[] = [];
    const lateMs: number[] = [];
    v.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const skip = Math.min(start, buf.length);
      start -= skip;
      buf = buf.subarray(skip);
      while (start === 0 && buf.length >= 1200) {
        const i = buf.readUInt32BE(0);
        order.push(i);
        lateMs.push(performance.now() - (sentAt[i] as number));
        buf = buf.subarray(1200);
      }
    });
    await once(v, 'close');
    gw.close();
    server.close();
    expect(order).toEqual(Array.from({ length: PACKETS }, (_, i) => i));
    // The gathering wait is 10 ms; the median packet stays well under 50 ms even on a busy machine.
    const sorted = [...lateMs].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(50);
  });
});
