import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEntryRouting,
  createRoutingStateFollower,
  createRoutingStatePublisher,
  digestHa1,
  HavenEmitter,
  type EntryRouting,
  type HavenEvents,
  type RoutingStateFollower,
} from '@haven/core';
import type { AuthHookServer } from '@haven/plugin-mediamtx';
import { playMedia3, playMsRtsp } from '../helpers/rtsp-players.js';
import { freePort, stopAll, waitFor } from '../helpers/process.js';
import { ffprobe, mtxPathReady, PUBLISHER, RELAY, startMediamtx, startPublisher, tableLocator, VIEWER, type Mtx } from '../gateway/helpers.js';
import { PARIS, recordingHooks, SECRETS, type Reads } from './setup.js';
import { fakeHaven } from '../api/fake-deps.js';
import { startNodeFacingApi } from '../helpers/node-api.js';
import { locateAtOrigin } from '../../examples/docker-app/src/node/entry-gateway.js';
import { createEntryLocator } from '../../examples/docker-app/src/node/entry-locator.js';
import { GATEWAY_KEY } from '../helpers/token-key.js';

// Entry nodes: each node's public RTSP port is the Haven's gateway (built from the origin's routing
// state), its MediaMTX on a loopback port behind it. Real MediaMTX processes with the plugin's own auth
// hook (token check included); the routing state as the origin publishes it and a node follows it.
// Every viewer (127.0.0.x) is in Paris: `par` is the nearest node.

const HAVEN = '0123456789abcdef';

type Name = 'par' | 'fra';

describe('entry nodes: the gateway on a node, from the routing state', () => {
  const reads: Reads[] = [];
  const hooks: AuthHookServer[] = [];
  const routed: Array<HavenEvents['viewer:routed'][0] & { entry: Name }> = [];
  const media: Partial<Record<Name, Mtx>> = {};
  const entries: Partial<Record<Name, EntryRouting>> = {};
  const followers: Partial<Record<Name, RoutingStateFollower>> = {};
  const ports: Partial<Record<Name, number>> = {};
  let clock = Date.now();
  let parLost = false;
  const url = (n: Name, pass = VIEWER.password) => `rtsp://${VIEWER.user}:${pass}@127.0.0.1:${ports[n]}/live`;

  beforeAll(async () => {
    const hook = recordingHooks(reads, hooks, ['live']);
    const origin = await startMediamtx({ authHook: await hook('origin', 'origin') });
    startPublisher(`rtsp://${PUBLISHER.user}:${PUBLISHER.password}@127.0.0.1:${origin.rtspPort}/live`, 300);
    await waitFor('origin stream ready', () => mtxPathReady(origin.apiPort), 30_000);
    const relay = `rtsp://${RELAY.user}:${RELAY.password}@127.0.0.1:${origin.rtspPort}/live`;
    for (const n of ['par', 'fra'] as const) {
      // The node's MediaMTX on loopback, trusting the gateway's PROXY line from there.
      media[n] = await startMediamtx({ source: relay, authHook: await hook('node', n), trustProxies: true });
      ports[n] = await freePort();
    }
    await waitFor('node streams ready', async () => (await mtxPathReady(media.par!.apiPort)) && mtxPathReady(media.fra!.apiPort), 30_000);
    // The origin's routing state: both nodes healthy entries, their public URLs being their gateways.
    const publisher = createRoutingStatePublisher({
      haven: HAVEN,
      build: () => ({
        nodes: [
          { name: 'par', location: { lat: 48.86, lon: 2.35 }, rtspUrl: `rtsp://127.0.0.1:${ports.par}`, healthy: true, capacity: 100, load: 0, entry: true },
          { name: 'fra', location: { lat: 50.11, lon: 8.68 }, region: 'eu-central', rtspUrl: `rtsp://127.0.0.1:${ports.fra}`, healthy: true, capacity: 100, load: 0, entry: true },
        ],
        viewer: { user: VIEWER.user, realm: 'Stream Haven', ha1: digestHa1(VIEWER.user, 'Stream Haven', VIEWER.password) },
        players: [],
      }),
    });
    for (const n of ['par', 'fra'] as const) {
      const follower = createRoutingStateFollower({ haven: HAVEN, maxAgeMs: 30_000, now: () => (n === 'par' && parLost ? clock + 60_000 : Date.now()) });
      expect(follower.accept(JSON.parse(JSON.stringify(publisher.current())))).toMatchObject({ ok: true });
      followers[n] = follower;
      const events = new HavenEmitter();
      events.on('viewer:routed', (e) => routed.push({ ...e, entry: n }));
      const e = createEntryRouting({
        self: n,
        follower,
        tokenKey: () => GATEWAY_KEY,
        mediaRtsp: () => `127.0.0.1:${media[n]!.rtspPort}`,
        rtspListen: { host: '127.0.0.1', port: ports[n]! },
        locator: () => tableLocator(Object.fromEntries(['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((ip) => [ip, PARIS]))),
        gateway: { stickySec: 0 },
        events,
      });
      for (const s of e.list) await s.start();
      entries[n] = e;
    }
    // par's first probe round ran before fra's gateway listened (refused: down at once, then
    // successesToUp good rounds to come back): probe until every entry sees every other node up, as its
    // background rounds would within a few health.intervalMs.
    await waitFor('every entry seeing the others up', async () => {
      for (const e of Object.values(entries)) await e.health.probeAll();
      return Object.values(entries).every((e) => e.registry.list().every((n) => n.origin || e.health.state(n, 'live') === 'up'));
    }, 30_000, 100);
  }, 120_000);

  afterAll(async () => {
    for (const e of Object.values(entries)) for (const s of [...e.list].reverse()) await s.stop();
    await stopAll();
    for (const h of hooks) await h.close();
  });

  it('a viewer asking the nearest entry plays there, spliced to its MediaMTX with its own token (no password reaches MediaMTX)', async () => {
    const n = reads.length;
    const r = await playMsRtsp({ url: url('par'), userAgent: 'MSRTSP-Emulator/1.0 (Windows Media Foundation)' });
    expect(r.error, `par's view of the nodes: ${JSON.stringify(entries.par!.health.snapshot())}`).toBeUndefined();
    expect(r.played).toBe(true);
    expect(r.hops).toEqual([{ host: '127.0.0.1', port: ports.par }]);
    expect(r.schemes.every((s) => s === 'digest')).toBe(true);
    expect(routed.at(-1)).toMatchObject({ entry: 'par', mode: 'splice', node: 'par' });
    const atPar = reads.slice(n).filter((x) => x.node === 'par');
    expect(atPar.length).toBeGreaterThanOrEqual(2); // DESCRIBE and SETUP, no challenge from MediaMTX
    // The viewer's address through the PROXY line; admitted by the token, not a password.
    expect(atPar.every((x) => x.allow && x.via === 'token' && x.ip === '127.0.0.1')).toBe(true);
  });

  it('a viewer asking a farther entry is redirected to the nearest node with a token for it, and plays there', async () => {
    const n = reads.length;
    const r = await playMsRtsp({ url: url('fra'), userAgent: 'MSRTSP-Emulator/1.0 (Windows Media Foundation)' });
    expect(r.error).toBeUndefined();
    expect(r.played).toBe(true);
    expect(r.hops).toEqual([{ host: '127.0.0.1', port: ports.fra }, { host: '127.0.0.1', port: ports.par }]);
    expect(r.playedFrom?.port).toBe(ports.par);
    expect(routed.filter((e) => e.entry === 'fra').at(-1)).toMatchObject({ mode: 'redirect', node: 'par', auth: 'digest' });
    // par's gateway admitted fra's token (signed for par) and spliced it to par's MediaMTX.
    expect(routed.at(-1)).toMatchObject({ entry: 'par', mode: 'splice', reason: 'token' });
    const atPar = reads.slice(n).filter((x) => x.node === 'par');
    expect(atPar.length).toBeGreaterThanOrEqual(2);
    expect(atPar.every((x) => x.allow && x.via === 'token')).toBe(true);
    expect(reads.slice(n).filter((x) => x.node === 'fra')).toEqual([]);
  });

  it('FFmpeg (real) and the media3 emulator play through an entry', async () => {
    const f = await ffprobe(url('fra'));
    expect(f.code, f.stderr).toBe(0);
    expect(f.codecs).toContain('h264');
    const m = await playMedia3({ url: url('fra'), userAgent: 'AndroidXMedia3/1.5.1' });
    expect(m.error).toBeUndefined();
    expect(m.played).toBe(true);
  });

  it('a wrong password is refused by the entry and never reaches MediaMTX; a forged token is not a door', async () => {
    const n = reads.length;
    const r = await playMsRtsp({ url: url('par', 'WrongPassword123'), userAgent: 'MSRTSP-Emulator/1.0' });
    expect(r.played).toBe(false);
    expect(r.statuses).toContain(401);
    const forged = await playMsRtsp({ url: `rtsp://127.0.0.1:${ports.par}/live?token=v1.zzzzzz.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, userAgent: 'MSRTSP-Emulator/1.0' });
    expect(forged.played).toBe(false);
    expect(forged.statuses).toContain(401);
    expect(reads.slice(n)).toEqual([]);
  });

  it('an entry whose state is not current (origin lost) sends no viewer to itself: it redirects to the other node', async () => {
    parLost = true;
    clock = Date.now();
    expect(followers.par!.health()).toMatchObject({ ok: false, reason: 'origin-lost' });
    entries.par!.sync();
    expect(entries.par!.registry.get('par')).toBeUndefined();
    const r = await playMsRtsp({ url: url('par'), userAgent: 'MSRTSP-Emulator/1.0 (Windows Media Foundation)' });
    expect(r.error, `par's view of the nodes: ${JSON.stringify(entries.par!.health.snapshot())}`).toBeUndefined();
    expect(r.played).toBe(true);
    expect(r.hops).toEqual([{ host: '127.0.0.1', port: ports.par }, { host: '127.0.0.1', port: ports.fra }]);
    expect(routed.filter((e) => e.entry === 'par' && e.mode === 'redirect').at(-1)).toMatchObject({ node: 'fra' });
    parLost = false;
    entries.par!.sync();
    expect(entries.par!.registry.get('par')?.origin).toBe(true);
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
    const mine: typeof routed = [];
    events.on('viewer:routed', (e) => mine.push({ ...e, entry: 'par' }));
    const locator = createEntryLocator({
      follower: followers.par!,
      own: () => undefined,
      origin: (ip) => locateAtOrigin({ reportUrl: `http://127.0.0.1:${origin.reportPort}` }, () => SECRETS.relayPassword, ip),
    });
    const e = createEntryRouting({
      self: 'par',
      follower: followers.par!,
      tokenKey: () => GATEWAY_KEY,
      mediaRtsp: () => `127.0.0.1:${media.par!.rtspPort}`,
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
      expect(r.hops).toEqual([{ host: '127.0.0.1', port }, { host: '127.0.0.1', port: ports.fra }]);
      expect(mine.at(-1)).toMatchObject({ mode: 'redirect', node: 'fra', city: 'Frankfurt' });
      // The answer is kept: the next viewer from there is placed without asking again.
      const again = await playMsRtsp({ url: `rtsp://${VIEWER.user}:${VIEWER.password}@127.0.0.1:${port}/live`, userAgent: ms, localAddress: '127.0.0.5', packets: 1 });
      expect(again.hops[1]).toEqual({ host: '127.0.0.1', port: ports.fra });
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
