import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestResponse, parseAuthParams, RtspClientConnection, rtspHeader as getHeader } from '@haven/gateway';
import { VIEWER } from './helpers.js';
import { basic, exchange, fakeRtspNode, harness, recorder, statuses, type Harness } from './fakes.js';

describe('RTSP gateway behaviour', () => {
  let h: Harness;
  let node: Awaited<ReturnType<typeof fakeRtspNode>>;
  let origin: Awaited<ReturnType<typeof recorder>>;
  let password = VIEWER.password;

  beforeAll(async () => {
    node = await fakeRtspNode();
    origin = await recorder();
    h = await harness({ nodes: [{ name: 'par', port: node.port, lat: 48.86, lon: 2.35 }], splicePort: origin.port, password: () => password });
  });
  afterAll(async () => {
    await h.stop();
    await node.close();
    await origin.close();
  });

  it('answers pipelined OPTIONS + DESCRIBE in order: 200 then 302 to the node, with a token and no password', async () => {
    const r = await exchange(h.port, [
      'OPTIONS rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf/60\r\n\r\n' +
        `DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 2\r\nAuthorization: ${basic()}\r\n\r\n`,
    ], { untilMs: 500 });
    expect(statuses(r.text)).toEqual([200, 302]);
    expect(r.text).toMatch(new RegExp(`Location: rtsp://127\\.0\\.0\\.1:${node.port}/live/token=v2\\.[0-9a-z]+\\.[A-Za-z0-9_-]{11}\\.[A-Za-z0-9_-]{86}\r\n`));
    expect(r.text).not.toContain(VIEWER.password);
    // The connection stays open after the 302 (a media3 player asks again on it).
    expect(r.closed).toBe(false);
    expect(h.routed.at(-1)).toMatchObject({ mode: 'redirect', node: 'par', reason: 'nearest', country: 'FR', auth: 'basic' });
    // The node was probed right before the redirect.
    expect(node.requests.some((q) => q.startsWith(`DESCRIBE rtsp://127.0.0.1:${node.port}/live`))).toBe(true);
  });

  it('offers Digest first and Basic after it, to every player (FFmpeg included)', async () => {
    for (const ua of ['Lavf59.27.100', 'VRChat', 'AndroidXMedia3/1.5.1']) {
      const r = await exchange(h.port, [`DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: ${ua}\r\n\r\n`], { untilMs: 300 });
      const challenges = [...r.text.matchAll(/WWW-Authenticate: (\w+)/g)].map((m) => m[1]);
      expect(challenges, ua).toEqual(['Digest', 'Basic']);
    }
  });

  it('a DESCRIBE of the Location on the same connection is served here, with the token instead of the password', async () => {
    const first = `OPTIONS rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: AndroidXMedia3/1.5.1\r\n\r\nDESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 2\r\nAuthorization: ${basic()}\r\n\r\n`;
    const sock = await import('node:net').then((n) => n.connect({ host: '127.0.0.1', port: h.port, localAddress: '127.0.0.2' }));
    let text = '';
    sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
    sock.write(first);
    const deadline = Date.now() + 5000;
    while (!/Location: (\S+)/.test(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const location = /Location: (\S+)/.exec(text)?.[1] ?? '';
    const before = origin.received().length;
    sock.write(`DESCRIBE ${location} RTSP/1.0\r\nCSeq: 3\r\nUser-Agent: AndroidXMedia3/1.5.1\r\n\r\n`);
    while (!/Server: recorder/.test(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sock.destroy();
    expect(statuses(text)).toEqual([200, 302, 200]);
    const got = origin.received().slice(before);
    // Under the Location's own URL (what media3 resolves its tracks against), the token removed.
    expect(got).toMatch(new RegExp(`^PROXY TCP4 127\\.0\\.0\\.2 127\\.0\\.0\\.1 \\d+ ${h.port}\\r\\nDESCRIBE rtsp://127\\.0\\.0\\.1:${node.port}/live RTSP/1.0\\r\\n`));
    const proof = Buffer.from(/Authorization: Basic (\S+)/.exec(got)?.[1] ?? '', 'base64').toString();
    expect(proof).toMatch(/^haven-token:v2\./);
    expect(got).not.toContain('token=');
    expect(h.routed.at(-1)).toMatchObject({ mode: 'splice', node: 'origin', reason: 'same-connection' });
  });

  it('after a 302 only the Location is served: another stream 403, another host 400, a flood is cut', async () => {
    const head = `DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: X\r\nAuthorization: ${basic()}\r\n\r\n`;
    const otherStream = await exchange(h.port, [head, `DESCRIBE rtsp://127.0.0.1:${node.port}/other RTSP/1.0\r\nCSeq: 2\r\n\r\n`], { gapMs: 300, untilMs: 3000 });
    expect(statuses(otherStream.text)).toEqual([302, 403]);
    expect(otherStream.closed).toBe(true);
    const otherHost = await exchange(h.port, [head, `DESCRIBE rtsp://203.0.113.9:8554/live RTSP/1.0\r\nCSeq: 2\r\n\r\n`], { gapMs: 300, untilMs: 3000 });
    expect(statuses(otherHost.text)).toEqual([302, 400]);
    const forged = await exchange(h.port, [head, `DESCRIBE rtsp://127.0.0.1:${node.port}/live?token=v1.zzzz.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA RTSP/1.0\r\nCSeq: 2\r\n\r\n`], { gapMs: 300, untilMs: 3000 });
    expect(statuses(forged.text)).toEqual([302, 400]);
    const flood = await exchange(h.port, [head + 'OPTIONS * RTSP/1.0\r\nCSeq: 9\r\n\r\n'.repeat(40)], { untilMs: 3000 });
    expect(flood.closed).toBe(true);
    expect(statuses(flood.text).at(-1)).toBe(400);
    expect(statuses(flood.text).length).toBeLessThanOrEqual(17);
  });

  it('splices a player whose best node is the origin (no location), with the token instead of its password', async () => {
    const before = origin.received().length;
    // DESCRIBE and SETUP pipelined in one write: both reach MediaMTX with the gateway's proof.
    const r = await exchange(
      h.port,
      [
        `OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf/60\r\n\r\nDESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 2\r\nAuthorization: ${basic()}\r\n\r\n` +
          `SETUP rtsp://127.0.0.1/live/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nAuthorization: ${basic()}\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`,
      ],
      { localAddress: '127.0.0.9', untilMs: 500 },
    );
    expect(statuses(r.text)).toEqual([200, 200, 200]);
    expect(r.text).toContain('Server: recorder');
    const got = origin.received().slice(before);
    expect(got).toMatch(/^PROXY TCP4 127\.0\.0\.9 /);
    expect(got).not.toContain(basic());
    const proofs = [...got.matchAll(/Authorization: Basic (\S+)/g)].map((m) => Buffer.from(m[1] as string, 'base64').toString());
    expect(proofs.length).toBe(2);
    expect(proofs.every((p) => p.startsWith('haven-token:v2.'))).toBe(true);
    expect(h.routed.at(-1)).toMatchObject({ mode: 'splice', reason: 'fallback-no-location' });
  });

  it('unknown streams get 404', async () => {
    const r = await exchange(h.port, [`DESCRIBE rtsp://127.0.0.1/other RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf\r\nAuthorization: ${basic()}\r\n\r\n`], { untilMs: 300 });
    expect(statuses(r.text)).toEqual([404]);
  });

  it('a rotated viewer password applies to the next request', async () => {
    password = 'RotatedPass12345';
    const old = await exchange(h.port, [`DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf\r\nAuthorization: ${basic()}\r\n\r\n`], { untilMs: 300 });
    expect(statuses(old.text)).toEqual([401]);
    const fresh = await exchange(h.port, [`DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf\r\nAuthorization: ${basic(VIEWER.user, password)}\r\n\r\n`], { untilMs: 500 });
    expect(statuses(fresh.text)).toEqual([302]);
    password = VIEWER.password;
  });

  it('dry-run explains without side effects', () => {
    const n = h.routed.length;
    const e = h.stack.router.explain('127.0.0.1', 'Lavf/60');
    expect(e).toMatchObject({ mode: 'redirect', node: 'par', reason: 'nearest' });
    expect(e.candidates.map((c) => c.node)).toEqual(['par', 'origin']);
    expect(h.routed.length).toBe(n);
  });
});

describe('RTSP gateway without a reachable media server', () => {
  it('answers 503 to a viewer that must be spliced', async () => {
    const h = await harness({ splicePort: 1 });
    try {
      const r = await exchange(h.port, [`DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 5\r\nUser-Agent: VRChat\r\nAuthorization: ${basic()}\r\n\r\n`]);
      expect(r.text).toMatch(/^RTSP\/1.0 503 Service Unavailable\r\nCSeq: 5\r\n/);
      expect(h.refused.at(-1)?.reason).toBe('no-node');
    } finally {
      await h.stop();
    }
  });

  it('stop() closes open connections and can be called twice', async () => {
    const h = await harness({});
    const pending = exchange(h.port, ['OPTIONS * RTSP/1.0\r\n'], { untilMs: 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    await h.stop();
    await h.stop();
    expect((await pending).closed).toBe(true);
  });
});

describe('HLS gateway', () => {
  let h: Harness;
  let nodeHls: ReturnType<typeof createServer>;
  let localHls: ReturnType<typeof createServer>;
  const nodeSeen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const localSeen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  let node: Awaited<ReturnType<typeof fakeRtspNode>>;
  let nodeHlsPort = 0;

  beforeAll(async () => {
    node = await fakeRtspNode();
    nodeHls = createServer((req, res) => {
      nodeSeen.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
      res.end('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nmain_stream.m3u8?session=abc\n');
    }).listen(0, '127.0.0.1');
    await once(nodeHls, 'listening');
    nodeHlsPort = (nodeHls.address() as { port: number }).port;
    localHls = createServer((req, res) => {
      localSeen.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`local:${req.url}`);
    }).listen(0, '127.0.0.1');
    await once(localHls, 'listening');
    const lp = (localHls.address() as { port: number }).port;
    // The node's public HLS address is 127.0.0.5, where nothing listens; its VPN address is 127.0.0.1:
    // the origin fetches playlists over the VPN, and the player is sent to the public address.
    h = await harness({
      nodes: [{ name: 'par', port: node.port, lat: 48.86, lon: 2.35, hls: `http://127.0.0.5:${nodeHlsPort}`, vpnAddress: '127.0.0.1' }],
      localHls: `http://127.0.0.1:${lp}`,
      hls: true,
    });
  });
  afterAll(async () => {
    await h.stop();
    await node.close();
    nodeHls.close();
    localHls.close();
  });

  const get = (path: string, auth?: string) => fetch(`http://127.0.0.1:${h.hlsPort}${path}`, { headers: auth ? { authorization: auth } : {}, redirect: 'manual' });

  it('asks for credentials, refuses wrong ones, 404s unknown streams', async () => {
    const r = await get('/live/index.m3u8');
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Basic realm="Stream Haven"');
    expect((await get('/live/index.m3u8', basic('viewer', 'nope'))).status).toBe(401);
    expect((await get('/nope/index.m3u8', basic())).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${h.hlsPort}/live/index.m3u8`, { method: 'POST' })).status).toBe(405);
  });

  it('serves the node playlist with absolute URIs, fetched for this viewer', async () => {
    for (const path of ['/live/index.m3u8', '/live/', '/live']) {
      const r = await get(`${path}?token=x`, basic());
      expect(r.status).toBe(200);
      expect(await r.text()).toBe(`#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nhttp://127.0.0.5:${nodeHlsPort}/live/main_stream.m3u8?session=abc\n`);
    }
    const seen = nodeSeen.at(-1);
    expect(seen?.url).toBe('/live/index.m3u8?token=x&cookieCheck=1');
    // Fetched over the VPN: the viewer's address in X-Forwarded-For, which the node trusts from VPN addresses only.
    expect(seen?.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(h.routed.at(-1)).toMatchObject({ mode: 'hls-playlist', node: 'par' });
  });

  it('proxies the origin when it serves the viewer, and its segments', async () => {
    const r = await fetch(`http://127.0.0.1:${h.hlsPort}/live/index.m3u8`, { headers: { authorization: basic() } });
    expect(r.status).toBe(200);
    await node.close(); // the node is gone: the origin serves
    const o = await get('/live/index.m3u8', basic());
    expect(await o.text()).toBe('local:/live/index.m3u8?cookieCheck=1');
    expect(localSeen.at(-1)?.headers['x-forwarded-for']).toBe('127.0.0.1');
    const seg = await get('/live/segment1.ts?session=abc');
    expect(await seg.text()).toBe('local:/live/segment1.ts?session=abc');
  });
});

describe('HLS gateway in redirect mode', () => {
  it('answers 302 to the node with the viewer credentials in the URL', async () => {
    const node = await fakeRtspNode();
    const h = await harness({ nodes: [{ name: 'par', port: node.port, lat: 48.86, lon: 2.35, hls: 'http://127.0.0.1:9' }], hls: true, gateway: { hlsMode: 'redirect' } });
    try {
      const r = await fetch(`http://127.0.0.1:${h.hlsPort}/live/index.m3u8?x=1`, { headers: { authorization: basic() }, redirect: 'manual' });
      expect(r.status).toBe(302);
      expect(r.headers.get('location')).toBe(`http://${VIEWER.user}:${VIEWER.password}@127.0.0.1:9/live/index.m3u8?x=1`);
      expect(h.routed.at(-1)).toMatchObject({ mode: 'hls-redirect', node: 'par' });
    } finally {
      await h.stop();
      await node.close();
    }
  });
});
