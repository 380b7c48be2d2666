import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signViewerToken } from '@haven/gateway';
import { GATEWAY_KEY } from '../helpers/token-key.js';
import { playMedia3, playMsRtsp } from '../helpers/rtsp-players.js';
import { ffprobe, gstreamerRtsp, RELAY, VIEWER } from '../gateway/helpers.js';
import { startHaven, type Haven } from './setup.js';

// A Haven with two nodes on loopback (see setup.ts), each an entry gateway in front of its MediaMTX as
// the app builds a node. Every viewer is in Paris: `par` is nearest.

describe('adaptive redirect with real MediaMTX and player emulators', () => {
  let h: Haven;
  const url = (pass = VIEWER.password) => `rtsp://${VIEWER.user}:${pass}@127.0.0.1:${h.rtspPort}/live`;
  const port = (name: 'par' | 'fra') => h.nodes[name].rtspPort;

  beforeAll(async () => {
    h = await startHaven({ learnMinSamples: 1, learnMinPrefixes: 1, followDeadlineMs: 3000 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('the MS-RTSP emulator closes on the 302, reconnects to the nearest node and plays there with the token', async () => {
    const r = await playMsRtsp({ url: url(), userAgent: 'MSRTSP-Emulator/1.0 (Windows Media Foundation)' });
    expect(r.error).toBeUndefined();
    expect(r.played).toBe(true);
    expect(r.hops).toEqual([{ host: '127.0.0.1', port: h.rtspPort }, { host: '127.0.0.1', port: port('par') }]);
    expect(r.playedFrom?.port).toBe(port('par'));
    expect(r.challenges).toBe(1);
    expect(r.schemes.every((s) => s === 'digest')).toBe(true);
    expect(h.routed.at(-1)).toMatchObject({ mode: 'redirect', node: 'par', auth: 'digest' });
    expect(h.reads.filter((x) => x.node === 'par' && x.allow).length).toBeGreaterThanOrEqual(2); // DESCRIBE and SETUP
  });

  it('the media3 emulator re-sends DESCRIBE on the same socket and plays from the gateway host first time', async () => {
    const n = h.reads.length;
    const r = await playMedia3({ url: url(), userAgent: 'AndroidXMedia3/1.5.1' });
    expect(r.error).toBeUndefined();
    expect(r.played).toBe(true);
    expect(r.hops).toEqual([{ host: '127.0.0.1', port: h.rtspPort }]);
    expect(r.statuses.slice(0, 4)).toEqual([200, 401, 302, 200]);
    expect(r.challenges).toBe(1);
    expect(r.schemes.every((s) => s === 'digest')).toBe(true);
    expect(h.routed.at(-1)).toMatchObject({ mode: 'splice', node: 'origin', reason: 'same-connection' });
    // The origin's MediaMTX saw the gateway's token (as the viewer, through PROXY), never the password.
    const originReads = h.reads.slice(n).filter((x) => x.node === 'origin');
    expect(originReads.length).toBeGreaterThanOrEqual(2); // DESCRIBE and SETUP, no challenge from MediaMTX
    expect(originReads.every((x) => x.allow && x.as === 'viewer' && x.ip === '127.0.0.1')).toBe(true);
  });

  it('a player that gives up after a 302 is learned and served locally on its second attempt', async () => {
    const ua = 'GiveUpPlayer/0.1';
    const first = await playMsRtsp({ url: url(), userAgent: ua, onRedirect: 'give-up', localAddress: '127.0.0.3' });
    expect(first.error).toMatch(/gave up after 302/);
    expect(first.played).toBe(false);
    await waitUntil(() => h.stack.rtspGateway.learner.verdict(ua).served === 'local', 15_000);
    const player = h.stack.rtspGateway.learner.snapshot().find((p) => p.userAgent === ua);
    expect(player).toMatchObject({ redirects: 1, notFollowed: 1, followRate: 0, served: 'local', why: 'learned-local' });
    // The dry-run (`haven route`) says so too.
    expect(h.stack.router.explain('127.0.0.3', ua)).toMatchObject({ mode: 'splice', reason: 'learned-local' });
    const second = await playMsRtsp({ url: url(), userAgent: ua, onRedirect: 'give-up', localAddress: '127.0.0.3' });
    expect(second.error).toBeUndefined();
    expect(second.played).toBe(true);
    expect(second.hops).toEqual([{ host: '127.0.0.1', port: h.rtspPort }]);
    expect(second.challenges).toBe(1);
    expect(h.routed.at(-1)).toMatchObject({ mode: 'splice', reason: 'learned-local' });
  });

  it('FFmpeg (real) answers Digest, follows the 302 and reads from the nearest node with the token alone', async () => {
    const n = h.reads.length;
    const r = await ffprobe(url());
    expect(r.code, r.stderr).toBe(0);
    expect(r.codecs).toContain('h264');
    expect(h.routed.at(-1)).toMatchObject({ mode: 'redirect', node: 'par', auth: 'digest' });
    expect(h.routed.at(-1)?.userAgent).toMatch(/^Lavf/);
    const atNode = h.reads.slice(n).filter((x) => x.node === 'par');
    expect(atNode.length).toBeGreaterThanOrEqual(2);
    expect(atNode.every((x) => x.allow)).toBe(true);
  });

  it('GStreamer (real) answers Digest, follows the 302 and plays from the nearest node', async () => {
    const n = h.reads.length;
    const routedBefore = h.routed.length;
    const { last, tries } = await gstreamerRtsp(['-q', 'rtspsrc', `location=rtsp://127.0.0.1:${h.rtspPort}/live`, `user-id=${VIEWER.user}`, `user-pw=${VIEWER.password}`, 'protocols=tcp', '!', 'identity', 'eos-after=10', '!', 'fakesink']);
    expect(last.code, (last.stderr + last.stdout).slice(-2000)).toBe(0);
    // Every attempt was redirected to the nearest node and never challenged there.
    const mine = h.routed.slice(routedBefore);
    expect(mine.length).toBe(tries.length);
    expect(mine.every((e) => e.mode === 'redirect' && e.node === 'par' && e.auth === 'digest' && /GStreamer/.test(e.userAgent ?? ''))).toBe(true);
    const atNode = h.reads.slice(n).filter((x) => x.node === 'par');
    expect(atNode.length).toBeGreaterThanOrEqual(2);
    expect(atNode.every((x) => x.allow)).toBe(true); // never challenged at the node
  });

  it('a token replayed from another address, expired, for another stream or forged is refused by the node', async () => {
    // A real Location for 127.0.0.1, used from 127.0.0.2.
    const msg = await fetchLocation(h.rtspPort, '127.0.0.1');
    expect(msg).toMatch(new RegExp(`^rtsp://127\\.0\\.0\\.1:${port('par')}/live/token=v2\\.`));
    const replay = await playMsRtsp({ url: msg, userAgent: 'Replay/1', localAddress: '127.0.0.2' });
    expect(replay.played).toBe(false);
    expect(replay.statuses).toContain(401);
    const key = GATEWAY_KEY;
    const nodeUrl = (token: string) => `rtsp://127.0.0.1:${port('par')}/live/token=${token}`;
    const before = h.reads.length;
    const expired = signViewerToken(key, { ip: '127.0.0.1', stream: 'live', node: 'par' }, 5, Date.now() - 60_000);
    const otherStream = signViewerToken(key, { ip: '127.0.0.1', stream: 'other', node: 'par' }, 60);
    const otherNode = signViewerToken(key, { ip: '127.0.0.1', stream: 'live', node: 'fra' }, 60);
    const good = signViewerToken(key, { ip: '127.0.0.1', stream: 'live', node: 'par' }, 60);
    for (const t of [expired, otherStream, otherNode, good.slice(0, -3), 'v1.zz.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      const r = await playMsRtsp({ url: nodeUrl(t), userAgent: 'Replay/1' });
      expect(r.played, t.slice(0, 8)).toBe(false);
      expect(r.statuses.at(-1)).toBe(401);
    }
    // par's gateway challenged them all: none reached its MediaMTX.
    expect(h.reads.slice(before).filter((x) => x.node === 'par')).toEqual([]);
    const ok = await playMsRtsp({ url: nodeUrl(good), userAgent: 'Replay/1' });
    expect(ok.played).toBe(true);
    expect(ok.challenges).toBe(0);
    expect(h.reads.slice(before).filter((x) => x.node === 'par').every((x) => x.allow && x.via === 'token')).toBe(true);
  });

  it('a Basic-only player still plays by default (counted per player); with viewer.allowBasic false it is refused with a clear status', async () => {
    const ua = 'BasicOnlyPlayer/2';
    const r = await playMsRtsp({ url: url(), userAgent: ua, basicOnly: true });
    expect(r.played).toBe(true);
    expect(r.schemes).toEqual(['basic']); // DESCRIBE at the gateway only: the node takes the token
    expect(h.routed.at(-1)).toMatchObject({ auth: 'basic', userAgent: ua });
    expect(h.stack.rtspGateway.learner.snapshot().find((p) => p.userAgent === ua)).toMatchObject({ basic: 1, digest: 0 });
    h.config.viewer.allowBasic = false;
    try {
      const refused = await playMsRtsp({ url: url(), userAgent: ua, basicOnly: true });
      // Only Digest is offered now: a player that knows Basic alone cannot answer.
      expect(refused.played).toBe(false);
      expect(refused.statuses.at(-1)).toBe(401);
      const { RtspWire, headers } = await import('../helpers/rtsp-wire.js');
      const w = await RtspWire.open('127.0.0.1', h.rtspPort);
      const challenge = await w.request('DESCRIBE', `rtsp://127.0.0.1:${h.rtspPort}/live`, [['User-Agent', ua]]);
      const denied = await w.request('DESCRIBE', `rtsp://127.0.0.1:${h.rtspPort}/live`, [['User-Agent', ua], ['Authorization', `Basic ${Buffer.from(`${VIEWER.user}:${VIEWER.password}`).toString('base64')}`]]).catch(() => undefined);
      w.close();
      expect(headers(challenge, 'www-authenticate').map((c) => c.split(' ')[0])).toEqual(['Digest']);
      // One that sends Basic anyway is told why.
      expect(denied?.status).toBe(403);
      expect(denied?.reason).toBe('Basic Authentication Not Allowed');
      expect(h.refused.at(-1)?.reason).toBe('basic-refused');
      // A Digest player is not affected.
      const digest = await playMsRtsp({ url: url(), userAgent: 'DigestPlayer/1' });
      expect(digest.played).toBe(true);
    } finally {
      h.config.viewer.allowBasic = true;
    }
  });

  it('nodes never check the viewer password: every read they allowed (viewers and the origin\'s probes) came with a token', async () => {
    await h.stack.health.probeAll();
    const atNodes = h.reads.filter((x) => x.node !== 'origin' && x.allow);
    expect(atNodes.length).toBeGreaterThan(5);
    expect(atNodes.every((x) => x.via === 'token')).toBe(true);
  });

  it('a node at capacity by the readers it reports gets no new viewer', async () => {
    const par = h.stack.registry.get('par');
    if (!par) throw new Error('no par');
    h.stack.registry.update({ ...par, capacity: 1 });
    // The edited node is probed anew (as after a live config edit).
    await waitUntil(() => h.stack.health.state(h.stack.registry.get('par') as typeof par, 'live') === 'up', 15_000, () => h.stack.health.probeAll());
    const parNow = () => h.stack.registry.get('par') as NonNullable<typeof par>;
    // Earlier viewers have left par (its report says so), then one real reader is held open there.
    await waitUntil(() => h.stack.health.load(parNow()) === 0, 15_000);
    const held = playMsRtsp({ url: url(), userAgent: 'Holder/1', packets: 1_000_000, waitMs: 10_000, localAddress: '127.0.0.4' });
    await waitUntil(() => h.stack.health.load(parNow()) >= 1, 15_000);
    const r = await playMsRtsp({ url: url(), userAgent: 'NextViewer/1' });
    expect(r.played).toBe(true);
    expect(r.playedFrom?.port).toBe(port('fra'));
    expect(h.routed.at(-1)).toMatchObject({ mode: 'redirect', node: 'fra' });
    const holder = await held;
    expect(holder.playedFrom?.port).toBe(port('par'));
    // Once the holder left and par reports no reader, par takes viewers again.
    await waitUntil(() => h.stack.health.load(parNow()) === 0, 15_000);
    const again = await playMsRtsp({ url: url(), userAgent: 'NextViewer/1' });
    expect(again.playedFrom?.port).toBe(port('par'));
  });
});

async function waitUntil(cond: () => boolean, ms: number, between?: () => Promise<unknown>): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await (between ? between() : new Promise((r) => setTimeout(r, 100)));
  }
}

/** The `Location` the gateway gives a viewer at `localAddress` (Basic for brevity; the test is about the token). */
async function fetchLocation(port: number, localAddress: string): Promise<string> {
  const { RtspWire, header } = await import('../helpers/rtsp-wire.js');
  const w = await RtspWire.open('127.0.0.1', port, localAddress);
  try {
    const auth = `Basic ${Buffer.from(`${VIEWER.user}:${VIEWER.password}`).toString('base64')}`;
    const r = await w.request('DESCRIBE', `rtsp://127.0.0.1:${port}/live`, [['User-Agent', 'Fetch/1'], ['Authorization', auth]]);
    return header(r, 'location') ?? '';
  } finally {
    w.close();
  }
}
