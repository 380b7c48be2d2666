/**
 * A whole Haven end to end, every part real: the `haven` CLI (origin + 3 nodes) in network
 * namespaces over real WireGuard, real MediaMTX, the gateway, ffmpeg publishing over RTMP and
 * ffmpeg/ffprobe viewers in different "places" (subnets the origin's geo overrides map to regions).
 * Traffic goes only to addresses of the namespaces this file creates (172.31.0.0/16 inside them).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJoinBundle, decodeShareCode, defaultInterfaceName } from '@haven/plugin-wireguard';
import { waitFor, type Spawned } from '../helpers/process.js';
import { publicMediaListeners } from '../security/listeners.js';
import { Topology, type HavenProcess, type Host, publisherTail, Steps } from './topology.js';
import { makeSecretsRedactor, place, probe, watch, type Decision, type Places, type Status } from './viewers.js';

// Not only hex digits after `hv`: the app names its WireGuard interfaces `hv` + 10 hex digits, and a
// harness cleans up the interfaces and control sockets that start with its prefix.
const PREFIX = 'hvnet';
/** ffmpeg's own User-Agent prefix: a player the gateway knows follows RTSP redirects. */
const VIEWER_UA = 'Lavf';
/** The reader that stays on node B while node A dies, the config is edited and node C joins. */
const LONG_READER_SEC = 30;
/** The publisher's frame rate. */
const FPS = 25;

describe('a Haven in network namespaces', () => {
  let t: Topology;
  let origin: Host;
  let originHaven: HavenProcess;
  const hosts: Record<string, Host> = {};
  const nodeKeys: Record<string, string> = {};
  let rtmpUrl = '';
  /** The origin's WireGuard interface (named from its key; known from the first bundle). */
  let originWg = '';
  let rtspUrl = '';
  let redact: (s: string) => string = (s) => s;
  let publisher: Spawned | undefined;
  const timings: string[] = [];

  const steps = new Steps(() => redact(`${t?.logs() ?? ''}\n${publisherTail(publisher)}`));
  const step = steps.run;

  const status = () => t.fetchJson<Status>(origin, 'http://127.0.0.1:8880/api/status');
  const decisions = async () => (await t.fetchJson<{ decisions: Decision[] }>(origin, 'http://127.0.0.1:8880/api/decisions?limit=50')).decisions;
  const health = async (node: string) => (await status()).nodes.find((n) => n.name === node)?.health;
  /** The newest routing decision for a viewer place made at or after `since`. */
  async function decisionFor(p: string, since: number): Promise<Decision> {
    return waitFor(`a routing decision for ${p}`, async () => (await decisions()).find((d) => d.city === p && Date.parse(d.at) >= since - 5), 5000, 100);
  }
  /** A viewer in `host` plays the stream through the origin's gateway; where it went, and how. */
  async function view(host: Host, seconds = 2) {
    const since = Date.now();
    const w = await watch(t, host, rtspUrl, { seconds, userAgent: VIEWER_UA });
    expect(w.code, redact(w.stderr.slice(-1500))).toBe(0);
    expect(w.frames, 'frames decoded').toBeGreaterThan(0);
    const d = await decisionFor(place(host.name), since);
    return { ...w, decision: d, doneAt: Date.now() };
  }

  /** A node the way a friend does it: init, keygen -> origin adds it live -> join -> start. */
  async function joinNode(name: string, region: string) {
    const host = hosts[name]!;
    const dir = await t.dir(host);
    const t0 = Date.now();
    await t.cliOk(host, dir, ['init', '--role', 'node', '--name', name, '--region', region, '--public-host', host.ip]);
    const share = (await t.cliOk(host, dir, ['node', 'keygen', '--region', region])).stdout.trim();
    expect(share).toMatch(/^havn1-/);
    nodeKeys[name] = decodeShareCode(share).publicKey;
    const added = await t.cliOk(origin, originHaven.dir, ['node', 'add', share, '--json']);
    expect(added.stderr).toMatch(/added live/);
    const { bundle, vpnAddress } = JSON.parse(added.stdout) as { bundle: string; vpnAddress: string };
    // WireGuard interfaces are named from each side's key (unique: wireguard-go's sockets are shared).
    originWg = defaultInterfaceName(decodeJoinBundle(bundle).origin.publicKey);
    expect(vpnAddress).toMatch(/^10\.77\.0\.\d+$/);
    const joined = await t.cliOk(host, dir, ['node', 'join', bundle]);
    expect(joined.stderr).toContain(`this node is ${vpnAddress} on the VPN`);
    const proc = await t.start(host, dir);
    await waitFor(`${name} healthy at the origin`, async () => (await health(name)) === 'up', 30_000, 200);
    return { t0, upAt: Date.now(), proc, vpnAddress };
  }

  beforeAll(async () => {
    t = await Topology.create(PREFIX);
    origin = await t.host('origin', 10);
    const layout: Array<[string, number]> = [
      ['node-a', 11],
      ['node-b', 12],
      ['node-c', 13],
      ['viewer-a', 1],
      ['viewer-b', 2],
      ['viewer-c', 3],
      ['viewer-o', 4],
    ];
    for (const [name, index] of layout) hosts[name] = await t.host(name, index);
  }, 300_000);

  afterAll(async () => {
    for (const line of timings) console.log(line);
    // HAVEN_E2E_LOGS=1 prints every haven's log (secrets masked) after a passing run too.
    if (process.env.HAVEN_E2E_LOGS && !steps.failed && t) console.log(redact(t.logs()));
    await t?.cleanup();
  }, 60_000);

  it('the origin starts (no VPN until its first node), MediaMTX and geo overrides, and ffmpeg publishes over RTMP', async () => {
    await step(async () => {
      const dir = await t.dir(origin);
      await t.cliOk(origin, dir, ['init', '--name', 'origin', '--public-host', origin.ip, '--region', 'us-east', '--exposure', 'public']);
      await t.editConfig(dir, (doc) => {
        doc.set('health', doc.createNode({ intervalMs: 1000, timeoutMs: 1000, failuresToDown: 2, successesToUp: 2, freshMs: 500 }));
        doc.setIn(
          ['plugins', 'geo'],
          doc.createNode({
            database: 'none',
            overrides: [
              { cidr: hosts['viewer-a']!.subnet, region: 'eu-central', city: place('viewer-a') },
              { cidr: hosts['viewer-b']!.subnet, region: 'ap-northeast', city: place('viewer-b') },
              { cidr: hosts['viewer-c']!.subnet, region: 'sa-east', city: place('viewer-c') },
              { cidr: hosts['viewer-o']!.subnet, region: 'us-east', city: place('viewer-o') },
            ] satisfies Places,
          }),
        );
      });
      originHaven = await t.start(origin, dir);
      // No node yet: the origin runs without a tunnel; the first `node add` brings it up, live.
      expect(originHaven.proc.output()).toContain('WireGuard ready: the tunnel comes up with the first `haven node add`');
      const urls = JSON.parse((await t.cliOk(origin, dir, ['urls', '--json'])).stdout) as { publish: Array<{ rtmp: string }>; viewer: Array<{ rtsp: string }> };
      rtmpUrl = urls.publish[0]!.rtmp;
      rtspUrl = urls.viewer[0]!.rtsp;
      redact = await makeSecretsRedactor(dir);
      expect(new URL(rtspUrl).host).toBe(`${origin.ip}:8554`);

      publisher = startPublisher();
      await waitFor('the stream to be live at the origin', async () => (await status()).streams[0]?.ready, 30_000, 250);
    });
  });

  function startPublisher(): Spawned {
    // OBS runs on the streamer's machine: ingest listens on loopback there (`haven urls` names 127.0.0.1).
    return t.h.spawn(origin.ns, 'ffmpeg', [
      '-nostdin', '-loglevel', 'error', '-re',
      '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=${FPS}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(FPS),
      '-t', '600', '-f', 'flv', rtmpUrl,
    ]);
  }

  it('nodes A (eu-central) and B (ap-northeast) join live; each pulls over WireGuard; viewers go to the nearest', async () => {
    await step(async () => {
      const a = await joinNode('node-a', 'eu-central');
      const wg = originWg;
      const before = await t.wgTransfer(origin, wg);
      const va = await view(hosts['viewer-a']!);
      expect(va.decision).toMatchObject({ node: 'node-a', mode: 'redirect' });
      expect(va.servedBy, 'viewer A read from node A after the redirect').toBe(`${hosts['node-a']!.ip}:8554`);
      timings.push(`[e2e] node-a: join (init..start) to healthy ${a.upAt - a.t0} ms, to its first viewer routed there ${Date.parse(va.decision.at) - a.t0} ms (2 s played by ${va.doneAt - a.t0} ms)`);

      const b = await joinNode('node-b', 'ap-northeast');
      const vb = await view(hosts['viewer-b']!);
      expect(vb.decision).toMatchObject({ node: 'node-b', mode: 'redirect' });
      expect(vb.servedBy).toBe(`${hosts['node-b']!.ip}:8554`);
      timings.push(`[e2e] node-b: join to healthy ${b.upAt - b.t0} ms, to its first viewer routed there ${Date.parse(vb.decision.at) - b.t0} ms (2 s played by ${vb.doneAt - b.t0} ms)`);

      const vo = await view(hosts['viewer-o']!);
      expect(vo.decision).toMatchObject({ node: 'origin', mode: 'splice' });
      expect(vo.servedBy).toBe(`${origin.ip}:8554`);

      // The nodes' MediaMTX pull from the origin through the tunnel: the origin's peer counters grow.
      await waitFor('the WireGuard byte counters of both nodes to grow', async () => {
        const after = await t.wgTransfer(origin, wg);
        return ['node-a', 'node-b'].every((n) => {
          const k = nodeKeys[n]!;
          return (after.get(k)?.tx ?? 0) > (before.get(k)?.tx ?? 0) + 50_000 && (after.get(k)?.rx ?? 0) > (before.get(k)?.rx ?? 0);
        });
      }, 15_000, 250);
      timings.push(`[e2e] redirect decision time (decisionMs): viewer-a ${va.decision.decisionMs} ms, viewer-b ${vb.decision.decisionMs} ms, viewer-o (splice) ${vo.decision.decisionMs} ms`);
    });
  });

  let longReader: ReturnType<typeof startLongReader> | undefined;
  function startLongReader(host: Host, seconds: number) {
    const samples: Array<{ at: number; frame: number }> = [];
    const proc = t.h.spawn(host.ns, 'ffmpeg', [
      '-nostdin', '-loglevel', 'error', '-user_agent', `${VIEWER_UA}/long-reader`, '-rtsp_transport', 'tcp',
      '-i', rtspUrl, '-t', String(seconds), '-f', 'null', '-progress', 'pipe:1', '-stats_period', '0.5', '-',
    ]);
    proc.child.stdout?.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/^frame=(\d+)$/gm)) samples.push({ at: Date.now(), frame: Number(m[1]) });
    });
    return { proc, samples };
  }

  it('with nodes pulling over the VPN, no MediaMTX RTSP or HLS socket of the origin or a node is on a public address but the ones viewers use', async () => {
    await step(async () => {
      // The origin: MediaMTX on loopback only (the gateway and the relay door are the app's sockets).
      expect(await publicMediaListeners({ ns: origin.ns, vpnSubnets: ['10.77.0.0/24'] })).toEqual([]);
      // A node serves viewers itself: its public MediaMTX sockets are the RTSP and HLS ports of its share code.
      const onNode = await publicMediaListeners({ ns: hosts['node-b']!.ns, vpnSubnets: ['10.77.0.0/24'] });
      expect(onNode.length).toBeGreaterThan(0);
      expect([...new Set(onNode.map((l) => l.port))].filter((p) => p !== 8554 && p !== 8888)).toEqual([]);
    });
  });

  it('node A dies mid-stream: viewers in place A are sent to B or the origin, never A', async () => {
    await step(async () => {
      // A viewer that stays on node B through what follows (node A dying, node C joining).
      longReader = startLongReader(hosts['viewer-b']!, LONG_READER_SEC);
      await waitFor('the long reader playing from node B', async () => (await t.tcpPeers(hosts['viewer-b']!)).includes(`${hosts['node-b']!.ip}:8554`) && longReader!.samples.some((s) => s.frame > 0), 20_000, 200);

      const logFrom = originHaven.proc.output().length;
      const killedAt = Date.now();
      const pids = await t.killHost(hosts['node-a']!);
      expect(pids.length).toBeGreaterThanOrEqual(3); // haven, MediaMTX, wireguard-go
      const detected = waitFor('the origin to mark node-a down', () => (originHaven.proc.output().slice(logFrom).includes('node node-a is down') ? Date.now() : undefined), 20_000, 20);

      // Reconnect right away (the last probe result is older than freshMs): the probe before the
      // redirect finds A dead.
      await new Promise((r) => setTimeout(r, 600));
      const again = await view(hosts['viewer-a']!);
      expect(['node-b', 'origin']).toContain(again.decision.node);
      expect(again.servedBy).not.toBe(`${hosts['node-a']!.ip}:8554`);
      const downAt = await detected;
      timings.push(`[e2e] failover: node-a killed -> marked down after ${downAt - killedAt} ms; viewer-a reconnect -> ${again.decision.node} (${again.decision.reason}, ${again.decision.decisionMs} ms)`);

      // And once A is known down, again never A (ffprobe this time).
      const since = Date.now();
      const later = await probe(t, hosts['viewer-a']!, rtspUrl, VIEWER_UA);
      expect(later.code, redact(later.stderr.slice(-1500))).toBe(0);
      expect(later.codecs).toContain('h264');
      expect(later.servedBy).toMatch(/^172\.31\.\d+\.2:8554$/);
      expect(later.servedBy).not.toBe(`${hosts['node-a']!.ip}:8554`);
      expect(['node-b', 'origin']).toContain((await decisionFor(place('viewer-a'), since)).node);
    });
  });

  it('haven.yaml edited live: an invalid edit is rejected and changes nothing; removing dead node A applies without a restart', async () => {
    await step(async () => {
      const nodesNow = async () => (await status()).nodes.map((n) => n.name).sort();
      const before = await nodesNow();
      expect(before).toEqual(['node-a', 'node-b', 'origin']);
      let logFrom = originHaven.proc.output().length;
      await t.editConfig(originHaven.dir, (doc) => {
        doc.addIn(['nodes'], doc.createNode({ name: 'bogus', region: 'atlantis', rtsp: 'rtsp://172.31.99.2:8554' }));
      });
      await waitFor('the origin to reject the invalid edit', () => originHaven.proc.output().slice(logFrom).includes('the edited config is invalid'), 10_000, 50);
      expect(originHaven.proc.output().slice(logFrom)).toMatch(/unknown region \\?"atlantis\\?"/);
      expect(await nodesNow()).toEqual(before);

      logFrom = originHaven.proc.output().length;
      await t.editConfig(originHaven.dir, (doc) => {
        const names = (doc.toJS() as { nodes: Array<{ name: string }> }).nodes.map((n) => n.name);
        for (const i of [names.indexOf('node-a'), names.indexOf('bogus')].sort((x, y) => y - x)) doc.deleteIn(['nodes', i]);
      });
      await waitFor('node-a to leave the registry', async () => !(await nodesNow()).includes('node-a'), 10_000, 200);
      expect(await nodesNow()).toEqual(['node-b', 'origin']);
      const peers = await t.wgTransfer(origin, originWg);
      expect(peers.has(nodeKeys['node-a']!), 'node-a is no longer a WireGuard peer').toBe(false);
      expect(peers.has(nodeKeys['node-b']!)).toBe(true);
      expect(originHaven.proc.child.exitCode, 'the origin kept running').toBeNull();
    });
  });

  it('node C (sa-east) joins while the stream is live: new viewers near C go to C; the viewer on B keeps playing', async () => {
    await step(async () => {
      const dry = JSON.parse((await t.cliOk(origin, originHaven.dir, ['route', hosts['viewer-c']!.ip, '--user-agent', VIEWER_UA, '--json'])).stdout) as { node?: string };
      expect(dry.node, 'before C joins, place C is served by the origin').toBe('origin');

      const c = await joinNode('node-c', 'sa-east');
      expect(longReader!.proc.child.exitCode, 'the reader on B was still playing when C joined').toBeNull();
      const vc = await view(hosts['viewer-c']!);
      expect(vc.decision).toMatchObject({ node: 'node-c', mode: 'redirect' });
      expect(vc.servedBy).toBe(`${hosts['node-c']!.ip}:8554`);
      timings.push(`[e2e] node-c (live join): join to healthy ${c.upAt - c.t0} ms, to its first viewer routed there ${Date.parse(vc.decision.at) - c.t0} ms (2 s played by ${vc.doneAt - c.t0} ms), decision ${vc.decision.decisionMs} ms`);

      // The long reader on B played through all of it and ends normally at its -t.
      const r = longReader!;
      const code = await r.proc.exited;
      expect(code, redact(r.proc.output().slice(-1500))).toBe(0);
      const frames = r.samples.map((s) => s.frame);
      expect(frames.length).toBeGreaterThan(10);
      for (let i = 1; i < frames.length; i++) expect(frames[i]!).toBeGreaterThanOrEqual(frames[i - 1]!);
      let maxStall = 0;
      let lastGrowth = r.samples[0]!.at;
      for (let i = 1; i < r.samples.length; i++) {
        if (r.samples[i]!.frame > r.samples[i - 1]!.frame) lastGrowth = r.samples[i]!.at;
        maxStall = Math.max(maxStall, r.samples[i]!.at - lastGrowth);
      }
      // -t counts stream time: a gap of a few seconds in playback would leave it short of frames.
      expect(frames[frames.length - 1]!).toBeGreaterThanOrEqual(Math.floor(LONG_READER_SEC * FPS * 0.88));
      timings.push(`[e2e] long reader on node-b: ${frames[frames.length - 1]} frames over the run, longest time without a new frame ${maxStall} ms`);
    });
  });

  it('the publisher disconnects and reconnects: the nodes resume and new viewers play', async () => {
    await step(async () => {
      await publisher!.stop('SIGTERM', 3000);
      const leftAt = Date.now();
      await waitFor('the origin to see the publisher leave', async () => (await status()).streams[0]?.ready === false, 20_000, 200);
      await waitFor('node-b to be down without a stream', async () => (await health('node-b')) === 'down', 20_000, 200);

      const backAt = Date.now();
      publisher = startPublisher();
      await waitFor('the stream to be live again', async () => (await status()).streams[0]?.ready, 30_000, 200);
      await waitFor('nodes B and C to resume', async () => (await health('node-b')) === 'up' && (await health('node-c')) === 'up', 45_000, 250);
      const resumedAt = Date.now();
      const vb = await view(hosts['viewer-b']!);
      expect(vb.decision.node).toBe('node-b');
      expect(vb.servedBy).toBe(`${hosts['node-b']!.ip}:8554`);
      const since = Date.now();
      const pc = await probe(t, hosts['viewer-c']!, rtspUrl, VIEWER_UA);
      expect(pc.code, redact(pc.stderr.slice(-1500))).toBe(0);
      expect(pc.codecs).toContain('h264');
      expect(pc.servedBy).toBe(`${hosts['node-c']!.ip}:8554`);
      expect((await decisionFor(place('viewer-c'), since)).node).toBe('node-c');
      const vo = await view(hosts['viewer-o']!, 1);
      expect(vo.decision.node).toBe('origin');
      // Nodes report their readers and bytes to the origin over the VPN, so its view is complete.
      const reported = await waitFor('node reports over the VPN', async () => {
        const nodes = (await status()).nodes as unknown as Array<{ name: string; reportedAgoMs?: number }>;
        const fresh = nodes.filter((n) => n.reportedAgoMs !== undefined).map((n) => n.name).sort();
        return fresh.includes('node-b') && fresh.includes('node-c') ? fresh : undefined;
      }, 20_000, 500);
      expect(reported).not.toContain('node-a');
      timings.push(`[e2e] publisher gap ${backAt - leftAt} ms; reconnect -> nodes up again after ${resumedAt - backAt} ms`);
    });
  });

  it('the origin turns private live: nodes drop the viewer password they were given, and still let viewers in', async () => {
    await step(async () => {
      const secretsOf = async (dir: string) => (JSON.parse(await readFile(path.join(dir, 'state', 'secrets.json'), 'utf8')) as { viewerPassword: string }).viewerPassword;
      const nodeB = hosts['node-b']!;
      const nodeDir = await t.dir(nodeB);
      const password = await secretsOf(originHaven.dir);
      // Joined while the origin was public: node-b was given the viewer password.
      expect(await secretsOf(nodeDir)).toBe(password);
      await t.editConfig(originHaven.dir, (doc) => doc.set('exposure', 'private'));
      await waitFor('the origin to be private', async () => ((await status()) as unknown as { exposure?: { mode: string } }).exposure?.mode === 'private', 15_000, 200);
      // Nodes ask for the viewer credentials every 10 s.
      await waitFor('node-b to drop the viewer password', async () => (await secretsOf(nodeDir)) !== password, 30_000, 250);
      expect(t.havens.get('node-b')!.proc.output()).toContain('this node dropped the viewer password it held');
      // A viewer with the password still plays from node-b: its gateway checks the origin's HA1.
      const direct = new URL(rtspUrl);
      direct.hostname = nodeB.ip;
      const w = await watch(t, hosts['viewer-b']!, direct.href, { seconds: 1, userAgent: VIEWER_UA });
      expect(w.code, redact(w.stderr.slice(-1500))).toBe(0);
      expect(w.frames).toBeGreaterThan(0);
      expect(w.servedBy).toBe(`${nodeB.ip}:8554`);
    });
  });

  it('stops cleanly: SIGTERM ends every haven with exit 0', async () => {
    await step(async () => {
      await publisher!.stop('SIGTERM', 3000);
      for (const [name, p] of t.havens) {
        if (p.proc.child.exitCode !== null || p.proc.child.signalCode !== null) continue; // node-a was killed
        p.proc.child.kill('SIGTERM');
        expect(await p.proc.exited, `${name} exit code`).toBe(0);
      }
    });
  });
});
