import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HavenEmitter, originConfigSchema, type HavenEvents } from '@haven/core';
import { createOriginRouting, type RoutingStack } from '@haven/gateway';
import { freePort, stopAll, waitFor } from '../helpers/process.js';
import {
  ffprobe,
  gstreamerRtsp,
  mtxPathReady,
  mtxReaders,
  PUBLISHER,
  RELAY,
  startAuthHook,
  startMediamtx,
  startPublisher,
  tableLocator,
  VIEWER,
  type AuthHook,
  type Mtx,
} from './helpers.js';

// Real processes: an origin MediaMTX (auth hook, PROXY protocol trusted) fed by ffmpeg, two relay
// nodes (MediaMTX pulling from the origin), the gateway in this process, ffprobe as the viewer.
// The locator puts 127.0.0.1 in Paris: `par` is nearest, then `fra`, then the origin (us-east).

const PARIS = { lat: 48.86, lon: 2.35, country: 'FR', city: 'Paris' };
const gw = (port: number, pass = VIEWER.password) => `rtsp://${VIEWER.user}:${pass}@127.0.0.1:${port}/live`;

describe('RTSP/HLS gateway with real players', () => {
  let hook: AuthHook;
  let origin: Mtx;
  let fra: Mtx;
  let par: Mtx;
  let stack: RoutingStack;
  let rtspPort: number;
  let hlsPort: number;
  const events = new HavenEmitter();
  const routed: Array<HavenEvents['viewer:routed'][0]> = [];
  const refused: Array<HavenEvents['viewer:refused'][0]> = [];
  events.on('viewer:routed', (e) => routed.push(e));
  events.on('viewer:refused', (e) => refused.push(e));

  beforeAll(async () => {
    hook = await startAuthHook();
    origin = await startMediamtx({ authHook: hook.url, trustProxies: true, hls: true });
    startPublisher(`rtsp://${PUBLISHER.user}:${PUBLISHER.password}@127.0.0.1:${origin.rtspPort}/live`, 240);
    await waitFor('origin stream ready', () => mtxPathReady(origin.apiPort), 30_000);
    const relay = `rtsp://${RELAY.user}:${RELAY.password}@127.0.0.1:${origin.rtspPort}/live`;
    [fra, par] = await Promise.all([startMediamtx({ source: relay, hls: true, trustProxies: true }), startMediamtx({ source: relay, hls: true, trustProxies: true })]);
    await waitFor('relay nodes ready', async () => (await mtxPathReady(fra.apiPort)) && mtxPathReady(par.apiPort), 30_000);
    rtspPort = await freePort();
    hlsPort = await freePort();
    const config = originConfigSchema.parse({
      role: 'origin',
      region: 'us-east',
      public: { host: '127.0.0.1', rtspPort, hlsPort, bind: '127.0.0.1' },
      health: { intervalMs: 60_000, freshMs: 0, redirectProbeTimeoutMs: 1500, timeoutMs: 2000 },
      // No relay password below: no tokens, the legacy path (nodes check the password themselves).
      gateway: { stickySec: 0, pinLocal: ['VRChat'] },
      nodes: [
        { name: 'fra', region: 'eu-central', rtsp: `rtsp://127.0.0.1:${fra.rtspPort}`, hls: `http://127.0.0.1:${fra.hlsPort}` },
        { name: 'par', lat: 48.86, lon: 2.35, rtsp: `rtsp://127.0.0.1:${par.rtspPort}`, hls: `http://127.0.0.1:${par.hlsPort}` },
      ],
    });
    stack = createOriginRouting({
      config,
      secrets: () => ({ viewerPassword: VIEWER.password }),
      locator: () => tableLocator({ '127.0.0.1': PARIS }),
      media: () => ({ rtsp: `127.0.0.1:${origin.rtspPort}`, hls: `http://127.0.0.1:${origin.hlsPort}` }),
      events,
    });
    for (const s of stack.list) await s.start();
  });

  afterAll(async () => {
    for (const s of [...(stack?.list ?? [])].reverse()) await s.stop();
    await stopAll();
    await hook?.close();
  });

  it('ffprobe (Lavf) is redirected to the nearest node and reads the stream there', async () => {
    const before = hook.requests.length;
    const r = await ffprobe(gw(rtspPort));
    expect(r.code, r.stderr).toBe(0);
    expect(r.codecs).toContain('h264');
    expect(routed.at(-1)).toMatchObject({ mode: 'redirect', node: 'par', reason: 'nearest', country: 'FR', city: 'Paris' });
    expect(routed.at(-1)?.userAgent).toMatch(/^Lavf/);
    // The viewer never touched the origin's MediaMTX.
    expect(hook.requests.slice(before).filter((q) => q.user === VIEWER.user)).toEqual([]);
  });

  it('GStreamer rtspsrc answers the Digest challenge, follows the redirect and plays from the node', async () => {
    // rtspsrc drops credentials given in the URL when it follows a redirect; user-id/user-pw are kept.
    const loc = `location=rtsp://127.0.0.1:${rtspPort}/live`;
    const { last: r } = await gstreamerRtsp(['-q', 'rtspsrc', loc, `user-id=${VIEWER.user}`, `user-pw=${VIEWER.password}`, 'protocols=tcp', '!', 'identity', 'eos-after=10', '!', 'fakesink'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(routed.at(-1)).toMatchObject({ mode: 'redirect', node: 'par' });
    expect(routed.at(-1)?.userAgent).toMatch(/GStreamer/);
  });

  it('a player pinned local in config is spliced to the origin MediaMTX and reads the stream', async () => {
    const before = hook.requests.length;
    const r = await ffprobe(gw(rtspPort), ['-user_agent', 'VRChat/2024.4 (WMF)']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.codecs).toContain('h264');
    expect(routed.at(-1)).toMatchObject({ mode: 'splice', node: 'origin', reason: 'pinned-local' });
    expect(hook.requests.slice(before).some((q) => q.user === VIEWER.user && q.action === 'read' && q.protocol === 'rtsp')).toBe(true);
  });

  it('spliced connections carry the viewer address to MediaMTX (PROXY protocol)', async () => {
    const before = hook.requests.length;
    const res = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: rtspPort, localAddress: '127.0.0.5' });
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        if (/\r\n\r\n[\s\S]*m=video/.test(buf)) {
          s.destroy();
          resolve(buf);
        }
      });
      s.on('error', reject);
      s.on('close', () => resolve(buf));
      const auth = Buffer.from(`${VIEWER.user}:${VIEWER.password}`).toString('base64');
      s.write(`DESCRIBE rtsp://127.0.0.1:${rtspPort}/live RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: NotAPlayer/1\r\nAuthorization: Basic ${auth}\r\n\r\n`);
    });
    expect(res).toMatch(/^RTSP\/1.0 200/);
    expect(hook.requests.slice(before).map((q) => q.ip)).toContain('127.0.0.5');
  });

  it('a wrong password is refused on both paths', async () => {
    const n = refused.length;
    const redirected = await ffprobe(gw(rtspPort, 'WrongPassword1'));
    expect(redirected.code).not.toBe(0);
    expect(refused.slice(n).map((e) => e.reason)).toContain('auth');
    const spliced = await ffprobe(gw(rtspPort, 'WrongPassword1'), ['-user_agent', 'VRChat']);
    expect(spliced.code).not.toBe(0);
  });

  it('HLS: the origin playlist sends the player to the node, which serves the segments', async () => {
    const auth = `Basic ${Buffer.from(`${VIEWER.user}:${VIEWER.password}`).toString('base64')}`;
    const res = await fetch(`http://127.0.0.1:${hlsPort}/live/index.m3u8`, { headers: { authorization: auth } });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toMatch(/^#EXTM3U/);
    expect(text).toContain(`http://127.0.0.1:${par.hlsPort}/live/`);
    expect((await fetch(`http://127.0.0.1:${hlsPort}/live/index.m3u8`)).status).toBe(401);

    const r = await ffprobe(`http://${VIEWER.user}:${VIEWER.password}@127.0.0.1:${hlsPort}/live/index.m3u8`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.codecs).toContain('h264');
    expect(routed.at(-1)).toMatchObject({ mode: 'hls-playlist', node: 'par' });
    expect((await mtxReaders(par.apiPort)).some((x) => /hls/i.test(x.type))).toBe(true);
  });

  it('a node killed between probes is never chosen: the fresh probe moves the viewer on', async () => {
    await stack.health.probeAll();
    const parNode = stack.registry.get('par');
    expect(parNode && stack.health.state(parNode, 'live')).toBe('up');
    await par.proc.stop('SIGKILL');
    const n = routed.length;
    for (let i = 0; i < 2; i++) {
      const r = await ffprobe(gw(rtspPort));
      expect(r.code, r.stderr).toBe(0);
    }
    const after = routed.slice(n);
    expect(after.map((e) => e.node)).toEqual(['fra', 'fra']);
    expect(after[0]?.reason).toBe('probe-failed-next');
    expect(stack.router.stats().probesBeforeRedirectFailed).toBeGreaterThanOrEqual(1);
  });
});
