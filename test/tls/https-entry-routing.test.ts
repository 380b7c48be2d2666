/**
 * The entry node's HTTPS door (the Quest URL) routes with the entry routing, as the app wires it: two
 * nodes, each in its own namespace with a certificate for its IP address from Pebble (real http-01, no
 * ALWAYS_VALID), each running the MediaMTX plugin with `tls: acme` (its HTTPS entry on :443) and the
 * app's `startEntryGateway` (examples/docker-app/src/node/entry-gateway.ts) with a real routing-state
 * follower. The origin's side is played by this test with the origin's own pieces: the routing state
 * from `createRoutingStatePublisher`, each node's HTTPS URL from `createHttpsUrlBook`, fed with what
 * each node's report carries (`HttpsDoor.offer()`, the reporter's `httpsUrl`). Not the origin process
 * over WireGuard: the state reaches the nodes over the fixture's stdin.
 * The viewer in Tokyo is nearer node-b: the entry (Paris) answers 302 to node-b's own HTTPS URL with a
 * token, and ffmpeg trusting only Pebble's root plays there.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpsUrlBook, createRoutingStatePublisher, digestHa1, type RoutingStatePublisher } from '@haven/core';
import { waitFor } from '../helpers/process.js';
import { isRoot, requireTool } from '../helpers/tools.js';
import { testSecrets } from '../mediamtx/harness.js';
import { certified, ready, startMachine, type Machine } from './machines.js';
import { startPebble, type Pebble } from './pebble.js';
import { buildTopology, NET, tearDown, type Topology } from './topology.js';

const PREFIX = 'hent';
const S = testSecrets();
const HAVEN = '0123456789abcdef';
const HLS = 8443;
const PARIS = { lat: 48.86, lon: 2.35 };
const TOKYO = { lat: 35.69, lon: 139.7 };
const viewerAuth = `viewer:${S.viewerPassword}`;
const esc = (s: string) => s.replace(/[.]/g, '\\.');

describe('the entry node\'s HTTPS door sends a Quest viewer to the nearest node with HTTPS (app wiring, Pebble certificates)', () => {
  let t: Topology;
  let dir: string;
  let pebble: Pebble;
  let entry: Machine;
  let node: Machine;
  let ffmpeg: string;
  const book = createHttpsUrlBook({ ttlMs: 600_000 });
  let publisher: RoutingStatePublisher;

  beforeAll(async () => {
    if (!isRoot()) throw new Error('test/tls needs root (network namespaces)');
    ffmpeg = requireTool('ffmpeg', 'apt-get install -y ffmpeg');
    requireTool('curl', 'apt-get install -y curl');
    dir = await mkdtemp(path.join(tmpdir(), 'haven-tls-entry-'));
    t = await buildTopology(PREFIX);
    pebble = await startPebble(t.h, t.ns.ca, NET.ca, dir);
    const tls = { mode: 'acme', directoryUrl: pebble.directoryUrl, directoryCaFile: pebble.directoryCaFile, retryDelayMs: 2_000, issueTimeoutMs: 60_000 };
    // Each node places viewers the same way: NET.viewer in Tokyo, NET.other in Paris.
    const places = { [NET.viewer]: TOKYO, [NET.other]: PARIS };
    const common = { haven: HAVEN, hlsPort: HLS, rtspPort: 8554, publishSeconds: 900, places };
    entry = startMachine(t.h, t.ns.entry, { ...common, ip: NET.entry, name: 'entry-a', tls: { ...tls, challengeAddress: `${NET.entry}:80` } }, 'entry-node.ts');
    node = startMachine(t.h, t.ns.node, { ...common, ip: NET.node, name: 'node-b', tls: { ...tls, challengeAddress: `${NET.node}:80` } }, 'entry-node.ts');
    await Promise.all([ready(entry, 120_000), ready(node, 120_000)]);
    // The origin's routing state: both nodes healthy entries; HTTPS URLs only as the nodes report them.
    publisher = createRoutingStatePublisher({
      haven: HAVEN,
      build: () => ({
        nodes: [
          { name: 'entry-a', location: PARIS, ip: NET.entry },
          { name: 'node-b', location: TOKYO, ip: NET.node },
        ].map((n) => {
          const httpsUrl = book.get(n.name);
          return { name: n.name, location: n.location, rtspUrl: `rtsp://${n.ip}:8554`, ...(httpsUrl ? { httpsUrl } : {}), healthy: true, capacity: 0, load: 0, entry: true };
        }),
        viewer: { user: 'viewer', realm: 'Stream Haven', ha1: digestHa1('viewer', 'Stream Haven', S.viewerPassword) },
        players: [],
      }),
    });
  }, 300_000);

  afterAll(() => tearDown(PREFIX, t, [entry, node], dir), 90_000);

  /** What the node's report carries now (its HttpsDoor's offer), taken into the origin's book. */
  const report = async (m: Machine, name: string) => {
    const offer = (await m.ask('status', 'offer')).offer as string | null;
    book.report(name, offer ?? undefined);
    return offer;
  };
  const push = async () => {
    const st = publisher.current();
    for (const m of [entry, node]) expect((await m.ask(`state ${JSON.stringify(st)}`, 'accepted')).accepted).toMatchObject({ ok: true });
    return st;
  };
  const inViewer = (cmd: string, args: string[], timeoutMs = 60_000) => t.h.exec(t.ns.viewer, cmd, args, { timeoutMs });
  const door = async (from: string, auth = viewerAuth) => {
    const r = await inViewer('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '--interface', from, '--cacert', pebble.rootFile, '-u', auth, `https://${NET.entry}/live/index.m3u8`]);
    const [code, location] = r.stdout.trim().split(' ');
    return { code, location: location ?? '', stderr: r.stderr };
  };
  const streamReady = (m: Machine) => waitFor('stream ready', async () => (await m.ask('status', 'streamReady')).streamReady === true || undefined, 90_000, 500);

  it('a node the origin has no HTTPS report from is not chosen; once it reports its certificate, the Tokyo viewer is sent there and plays', async () => {
    const e = await certified(entry);
    expect(e.certificate.selfSigned).toBe(false);
    expect(await report(entry, 'entry-a')).toBe(`https://${NET.entry}:${HLS}`);
    // node-b has not reported an HTTPS URL yet: the state carries none for it.
    const before = await push();
    expect(before.nodes.find((n) => n.name === 'node-b')?.httpsUrl).toBeUndefined();
    await streamReady(entry);
    const early = await door(NET.viewer);
    expect(early.code, early.stderr).toBe('302');
    expect(early.location).toMatch(new RegExp(`^https://${esc(NET.entry)}:${HLS}/live/index\\.m3u8\\?token=v2\\.`));

    // node-b certified by Pebble, and its report says so: the state offers it.
    const n = await certified(node);
    expect(n.certificate.issuer).toMatch(/Pebble/i);
    expect(await report(node, 'node-b')).toBe(`https://${NET.node}:${HLS}`);
    const after = await push();
    expect(after.nodes.find((x) => x.name === 'node-b')?.httpsUrl).toBe(`https://${NET.node}:${HLS}`);
    await streamReady(node);

    // The Tokyo viewer: 302 from the entry to node-b's own HTTPS playlist with a token, no password.
    const tokyo = await door(NET.viewer);
    expect(tokyo.code, tokyo.stderr).toBe('302');
    expect(tokyo.location).toMatch(new RegExp(`^https://${esc(NET.node)}:${HLS}/live/index\\.m3u8\\?token=v2\\.`));
    expect(tokyo.location).not.toContain(S.viewerPassword);
    // node-b's HLS muxer is made on the first request ("muxer is waiting to be created" until then; a
    // player asks again, ffmpeg gives up at once): wait for its playlist, asking through the door.
    await waitFor('node-b to serve its HLS playlist', async () => {
      const via = await door(NET.viewer);
      const r = await inViewer('curl', ['-sS', '-L', '-c', '/dev/null', '--interface', NET.viewer, '--cacert', pebble.rootFile, via.location]).catch(() => undefined);
      return (r && /#EXTM3U/.test(r.stdout)) || undefined;
    }, 60_000, 500);
    // ffmpeg, trusting only Pebble's root and given only the entry URL, follows the 302 and plays at node-b.
    const r = await inViewer(
      ffmpeg,
      ['-hide_banner', '-loglevel', 'error', '-nostats', '-ca_file', pebble.rootFile, '-tls_verify', '1', '-i', `https://${viewerAuth}@${NET.entry}/live/index.m3u8`, '-t', '3', '-map', '0:v', '-f', 'null', '-progress', 'pipe:1', '-'],
      90_000,
    );
    const frames = Math.max(0, ...[...r.stdout.matchAll(/^frame=(\d+)/gm)].map((m) => Number(m[1])));
    expect(r.code, r.stderr).toBe(0);
    expect(frames).toBeGreaterThan(20);
    console.log(`[https entry routing] Tokyo viewer: entry ${NET.entry}:443 -> 302 -> ${new URL(tokyo.location).host}; ffmpeg decoded ${frames} frames in 3 s there`);

    // The Paris viewer (nearest: the entry itself) is sent to the entry's own HTTPS playlist and reads it.
    const paris = await door(NET.other);
    expect(paris.code, paris.stderr).toBe('302');
    expect(paris.location).toMatch(new RegExp(`^https://${esc(NET.entry)}:${HLS}/live/index\\.m3u8\\?token=v2\\.`));
    // MediaMTX creates an HLS muxer on the first request and answers "muxer is waiting to be created"
    // until it has one; a player asks again, through the door (a fresh token each time).
    let own = { stdout: '', stderr: '' };
    await waitFor('the entry to serve its own HLS playlist', async () => {
      const again = await door(NET.other);
      own = await inViewer('curl', ['-sS', '-L', '-c', '/dev/null', '--interface', NET.other, '--cacert', pebble.rootFile, again.location]);
      return /#EXTM3U/.test(own.stdout) || undefined;
    }, 30_000, 500).catch(() => undefined);
    expect(own.stdout, own.stderr).toMatch(/#EXTM3U/);
  }, 300_000);

  it('the door checks the viewer against the routing state\'s HA1: the node\'s own stored password and a wrong one get 401', async () => {
    expect((await door(NET.viewer, 'viewer:NotTheViewerPassword0123456789')).code).toBe('401');
    expect((await door(NET.viewer, 'viewer:wrong-password')).code).toBe('401');
    expect((await door(NET.viewer)).code).toBe('302');
  }, 60_000);
});
