import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestResponse, parseAuthParams, RtspClientConnection, rtspHeader as getHeader } from '@haven/core';
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

  it('answers pipelined OPTIONS + DESCRIBE in order: 200 then 302 to the node', async () => {
    const r = await exchange(h.port, [
      'OPTIONS rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf/60\r\n\r\n' +
        `DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 2\r\nAuthorization: ${basic()}\r\n\r\n`,
    ]);
    expect(statuses(r.text)).toEqual([200, 302]);
    expect(r.text).toContain(`Location: rtsp://127.0.0.1:${node.port}/live\r\n`);
    expect(r.text).not.toContain(VIEWER.password);
    expect(h.routed.at(-1)).toMatchObject({ mode: 'redirect', node: 'par', reason: 'nearest', country: 'FR' });
    // The node was probed right before the redirect.
    expect(node.requests.some((q) => q.startsWith(`DESCRIBE rtsp://127.0.0.1:${node.port}/live`))).toBe(true);
  });

  it('accepts Digest with its own nonce', async () => {
    const c = await RtspClientConnection.open('127.0.0.1', h.port);
    const uri = `rtsp://127.0.0.1:${h.port}/live`;
    const ua: [string, string] = ['User-Agent', 'LibVLC/3.0.18 (LIVE555 Streaming Media v2022.07.14)'];
    const challenge = await c.request('DESCRIBE', uri, [ua]);
    expect(challenge.status).toBe(401);
    const digest = challenge.headers.filter(([k]) => k === 'WWW-Authenticate').map(([, v]) => v).find((v) => v.startsWith('Digest'));
    const p = parseAuthParams((digest ?? '').slice(7));
    const response = digestResponse({ user: VIEWER.user, password: VIEWER.password, realm: p.get('realm') ?? '', nonce: p.get('nonce') ?? '', method: 'DESCRIBE', uri });
    const res = await c.request('DESCRIBE', uri, [ua, ['Authorization', `Digest username="${VIEWER.user}", realm="${p.get('realm')}", nonce="${p.get('nonce')}", uri="${uri}", response="${response}"`]]);
    c.close();
    expect(res.status).toBe(302);
    expect(getHeader(res, 'location')).toBe(`rtsp://127.0.0.1:${node.port}/live`);
  });

  it('offers FFmpeg Basic only (it keeps the scheme across the redirect)', async () => {
    const r = await exchange(h.port, ['DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf59.27.100\r\n\r\n'], { untilMs: 300 });
    expect(r.text).toContain('WWW-Authenticate: Basic realm="Stream Haven"');
    expect(r.text).not.toContain('Digest');
  });

  it('splices other players from their first byte, behind a PROXY v1 line', async () => {
    const first = `OPTIONS rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: VRChat\r\n\r\nDESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 2\r\n\r\n`;
    const before = origin.received().length;
    const r = await exchange(h.port, [first], { localAddress: '127.0.0.4', untilMs: 500 });
    expect(statuses(r.text)).toEqual([200, 200]);
    expect(r.text).toContain('Server: recorder');
    const got = origin.received().slice(before);
    expect(got).toMatch(new RegExp(`^PROXY TCP4 127\\.0\\.0\\.4 127\\.0\\.0\\.1 \\d+ ${h.port}\\r\\n`));
    expect(got.slice(got.indexOf('\r\n') + 2)).toBe(first);
    expect(h.routed.at(-1)).toMatchObject({ mode: 'splice', node: 'origin', reason: 'policy-splice' });
  });

  it('splices a redirect-capable player whose best node is the origin (no location)', async () => {
    const r = await exchange(h.port, ['OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf/60\r\n\r\n'], { localAddress: '127.0.0.9', untilMs: 300 });
    expect(r.text).toContain('Server: recorder');
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
    const fresh = await exchange(h.port, [`DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf\r\nAuthorization: ${basic(VIEWER.user, password)}\r\n\r\n`]);
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
      const r = await exchange(h.port, ['OPTIONS * RTSP/1.0\r\nCSeq: 5\r\nUser-Agent: VRChat\r\n\r\n']);
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
    h = await harness({ nodes: [{ name: 'par', port: node.port, lat: 48.86, lon: 2.35, hls: `http://127.0.0.1:${nodeHlsPort}` }], localHls: `http://127.0.0.1:${lp}`, hls: true });
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
      expect(await r.text()).toBe(`#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nhttp://127.0.0.1:${nodeHlsPort}/live/main_stream.m3u8?session=abc\n`);
    }
    const seen = nodeSeen.at(-1);
    expect(seen?.url).toBe('/live/index.m3u8?token=x&cookieCheck=1');
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
