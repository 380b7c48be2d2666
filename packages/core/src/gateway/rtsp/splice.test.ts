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
