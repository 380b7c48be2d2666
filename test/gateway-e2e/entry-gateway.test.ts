import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HavenEmitter } from '@haven/core';
import { createEntryRouting } from '@haven/gateway';
import { playMedia3, playMsRtsp } from '../helpers/rtsp-players.js';
import { freePort } from '../helpers/process.js';
import { ffprobe, VIEWER } from '../gateway/helpers.js';
import { SECRETS } from './setup.js';
import { startEntries, type Entries } from './entries.js';
import { fakeHaven } from '../api/fake-deps.js';
import { startNodeFacingApi } from '../helpers/node-api.js';
import { locateAtOrigin } from '../../examples/docker-app/src/node/entry-gateway.js';
import { createEntryLocator } from '../../examples/docker-app/src/node/entry-locator.js';
import { GATEWAY_KEY } from '../helpers/token-key.js';

// Entry nodes: each node's public RTSP port is the Haven's gateway (built from the origin's routing
// state), its MediaMTX on a loopback port behind it. Real MediaMTX processes with the plugin's own auth
// hook (token check included); the routing state as the origin publishes it and a node follows it.
// Every viewer (127.0.0.x) is in Paris: `par` is the nearest node.

describe('entry nodes: the gateway on a node, from the routing state', () => {
  let h: Entries;
  let clock = Date.now();
  let parLost = false;

  beforeAll(async () => {
    h = await startEntries({
      paris: ['127.0.0.2', '127.0.0.3'],
      publishSeconds: 300,
      // par's clock jumps past its state's age while `parLost` is set: the origin is lost to it.
      follower: (n) => ({ maxAgeMs: 30_000, now: () => (n === 'par' && parLost ? clock + 60_000 : Date.now()) }),
    });
  }, 120_000);

  afterAll(async () => h?.stop());

  it('a viewer asking the nearest entry plays there, spliced to its MediaMTX with its own token (no password reaches MediaMTX)', async () => {
    const n = h.reads.length;
    const r = await playMsRtsp({ url: h.url('par'), userAgent: 'MSRTSP-Emulator/1.0 (Windows Media Foundation)' });
    expect(r.error, `par's view of the nodes: ${JSON.stringify(h.entries.par.health.snapshot())}`).toBeUndefined();
    expect(r.played).toBe(true);
    expect(r.hops).toEqual([{ host: '127.0.0.1', port: h.ports.par }]);
    expect(r.schemes.every((s) => s === 'digest')).toBe(true);
    expect(h.routed.at(-1)).toMatchObject({ entry: 'par', mode: 'splice', node: 'par' });
    const atPar = h.reads.slice(n).filter((x) => x.node === 'par');
    expect(atPar.length).toBeGreaterThanOrEqual(2); // DESCRIBE and SETUP, no challenge from MediaMTX
    // The viewer's address through the PROXY line; admitted by the token, not a password.
    expect(atPar.every((x) => x.allow && x.via === 'token' && x.ip === '127.0.0.1')).toBe(true);
  });

  it('a viewer asking a farther entry is redirected to the nearest node with a token for it, and plays there', async () => {
    const n = h.reads.length;
    const r = await playMsRtsp({ url: h.url('fra'), userAgent: 'MSRTSP-Emulator/1.0 (Windows Media Foundation)' });
    expect(r.error).toBeUndefined();
    expect(r.played).toBe(true);
    expect(r.hops).toEqual([{ host: '127.0.0.1', port: h.ports.fra }, { host: '127.0.0.1', port: h.ports.par }]);
    expect(r.playedFrom?.port).toBe(h.ports.par);
    expect(h.routed.filter((e) => e.entry === 'fra').at(-1)).toMatchObject({ mode: 'redirect', node: 'par', auth: 'digest' });
    // par's gateway admitted fra's token (signed for par) and spliced it to par's MediaMTX.
    expect(h.routed.at(-1)).toMatchObject({ entry: 'par', mode: 'splice', reason: 'token' });
    const atPar = h.reads.slice(n).filter((x) => x.node === 'par');
    expect(atPar.length).toBeGreaterThanOrEqual(2);
    expect(atPar.every((x) => x.allow && x.via === 'token')).toBe(true);
    expect(h.reads.slice(n).filter((x) => x.node === 'fra')).toEqual([]);
  });

  it('FFmpeg (real) and the media3 emulator play through an entry', async () => {
    const f = await ffprobe(h.url('fra'));
    expect(f.code, f.stderr).toBe(0);
    expect(f.codecs).toContain('h264');
    const m = await playMedia3({ url: h.url('fra'), userAgent: 'AndroidXMedia3/1.5.1' });
    expect(m.error).toBeUndefined();
    expect(m.played).toBe(true);
  });

  it('a wrong password is refused by the entry and never reaches MediaMTX; a forged token is not a door', async () => {
    const n = h.reads.length;
    const r = await playMsRtsp({ url: h.url('par', 'WrongPassword123'), userAgent: 'MSRTSP-Emulator/1.0' });
    expect(r.played).toBe(false);
    expect(r.statuses).toContain(401);
    const forged = await playMsRtsp({ url: `rtsp://127.0.0.1:${h.ports.par}/live?token=v1.zzzzzz.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, userAgent: 'MSRTSP-Emulator/1.0' });
    expect(forged.played).toBe(false);
    expect(forged.statuses).toContain(401);
    expect(h.reads.slice(n)).toEqual([]);
  });

  it('an entry whose state is not current (origin lost) sends no viewer to itself: it redirects to the other node', async () => {
    parLost = true;
    clock = Date.now();
    expect(h.followers.par.health()).toMatchObject({ ok: false, reason: 'origin-lost' });
    h.entries.par.sync();
    expect(h.entries.par.registry.get('par')).toBeUndefined();
    const r = await playMsRtsp({ url: h.url('par'), userAgent: 'MSRTSP-Emulator/1.0 (Windows Media Foundation)' });
    expect(r.error, `par's view of the nodes: ${JSON.stringify(h.entries.par.health.snapshot())}`).toBeUndefined();
    expect(r.played).toBe(true);
    expect(r.hops).toEqual([{ host: '127.0.0.1', port: h.ports.par }, { host: '127.0.0.1', port: h.ports.fra }]);
    expect(h.routed.filter((e) => e.entry === 'par' && e.mode === 'redirect').at(-1)).toMatchObject({ node: 'fra' });
    parLost = false;
    h.entries.par.sync();
    expect(h.entries.par.registry.get('par')?.origin).toBe(true);
  });

  it('an entry with no GeoIP of its own asks the origin where a viewer is (GET /api/locate, the VPN), once per address, and sends it to the nearest node', async () => {
    const FRANKFURT = { lat: 50.11, lon: 8.68, country: 'DE', city: 'Frankfurt', source: 'dbip' };
    const asked: string[] = [];
    // The origin's control API: its report listener (the VPN in the app) knows 127.0.0.1 as node par.
    const origin = await startNodeFacingApi(
      { ...fakeHaven().deps, locate: (ip) => (asked.push(ip), ip === '127.0.0.5' ? FRANKFURT : undefined) },
      { nodeByAddress: (ip) => (ip === '127.0.0.1' ? 'par' : undefined) },
    );
    // A second gateway for node par, as the app builds it: the entry locator has no places and no locator plugin.
    const port = await freePort();
    const events = new HavenEmitter();
    const mine: Entries['routed'] = [];
    events.on('viewer:routed', (e) => mine.push({ ...e, entry: 'par' }));
    const locator = createEntryLocator({
      follower: h.followers.par,
      own: () => undefined,
      origin: (ip) => locateAtOrigin({ reportUrl: `http://127.0.0.1:${origin.reportPort}` }, () => SECRETS.relayPassword, ip),
    });
    const e = createEntryRouting({
      self: 'par',
      follower: h.followers.par,
      tokenKey: () => GATEWAY_KEY,
      mediaRtsp: () => `127.0.0.1:${h.media.par.rtspPort}`,
      rtspListen: { host: '127.0.0.1', port },
      locator: () => locator,
      gateway: { stickySec: 0 },
      events,
    });
    try {
      for (const s of e.list) await s.start();
      const ms = 'MSRTSP-Emulator/1.0 (Windows Media Foundation)';
      const r = await playMsRtsp({ url: `rtsp://${VIEWER.user}:${VIEWER.password}@127.0.0.1:${port}/live`, userAgent: ms, localAddress: '127.0.0.5' });
      expect(r.error).toBeUndefined();
      expect(r.played).toBe(true);
      expect(r.hops).toEqual([{ host: '127.0.0.1', port }, { host: '127.0.0.1', port: h.ports.fra }]);
      expect(mine.at(-1)).toMatchObject({ mode: 'redirect', node: 'fra', city: 'Frankfurt' });
      // The answer is kept: the next viewer from there is placed without asking again.
      const again = await playMsRtsp({ url: `rtsp://${VIEWER.user}:${VIEWER.password}@127.0.0.1:${port}/live`, userAgent: ms, localAddress: '127.0.0.5', packets: 1 });
      expect(again.hops[1]).toEqual({ host: '127.0.0.1', port: h.ports.fra });
      expect(asked.filter((ip) => ip === '127.0.0.5')).toEqual(['127.0.0.5']);
      // A viewer the origin cannot place has no location here either (asked once too).
      await playMsRtsp({ url: `rtsp://${VIEWER.user}:${VIEWER.password}@127.0.0.1:${port}/live`, userAgent: ms, localAddress: '127.0.0.6', packets: 1 });
      expect(asked.filter((ip) => ip === '127.0.0.6')).toEqual(['127.0.0.6']);
      expect(mine.at(-1)?.city).toBeUndefined();
    } finally {
      for (const s of [...e.list].reverse()) await s.stop();
      await origin.api.stop();
    }
  });
});
