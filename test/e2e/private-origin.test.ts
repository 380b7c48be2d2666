/**
 * A private origin (issue 15's Must show): the streamer's machine sits behind a NAT namespace
 * (nftables masquerade out, nothing forwarded in) and opens no port; two friends' entry nodes are the
 * front door. Every config comes from `haven init` unedited (no `--exposure`: private is the default once the origin has a node);
 * real wireguard-go, MediaMTX and ffmpeg. The origin dials each node's WireGuard endpoint (the nodes
 * cannot reach it); viewers are given entry URLs only and play them with ffprobe and the MS-RTSP and
 * media3 emulators. nft counters show no viewer packet reached the origin's addresses, and no answer a
 * viewer or the streamer's URL list could show names them. An entry dies: a viewer re-opens through the
 * other one (the seconds to the first frame are printed) and the origin never restarts. Last, the
 * origin's egress per viewer: 1 node x 6 viewers (WireGuard bytes) against 6 viewers straight to a
 * public origin (`haven init`, no node: public by default; its outside interface), and the ratio.
 * Traffic goes only to addresses of the namespaces this file creates (172.31.0.0/16, 192.168.77.0/24).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJoinBundle, decodeShareCode, defaultInterfaceName } from '@haven/plugin-wireguard';
import { waitFor, type Spawned } from '../helpers/process.js';
import { repoRoot, requireTool } from '../helpers/tools.js';
import type { PlayResult } from '../helpers/rtsp-players.js';
import { Topology, type HavenProcess, type Host } from './topology.js';
import { makeSecretsRedactor, probe } from './viewers.js';

const PREFIX = 'hvpriv';
const FPS = 25;
const SIZE = '320x240';
/** The streamer's LAN behind the NAT router. */
const LAN = { router: '192.168.77.1', origin: '192.168.77.2', cidr: '192.168.77.0/24' };
const WINDOW_MS = 8000;

describe('a private origin behind NAT: entry nodes are the front door', () => {
  let t: Topology;
  let nat: Host;
  let origin: Host;
  let originDir = '';
  let originHaven: HavenProcess;
  const nodes: Record<'node-a' | 'node-b', Host> = {} as Record<'node-a' | 'node-b', Host>;
  const nodeDirs: Record<string, string> = {};
  const nodeKeys: Record<string, string> = {};
  const viewers: Host[] = [];
  let originWg = '';
  let entryUrls: Record<string, string> = {};
  let urlsText = '';
  let token = '';
  let redact: (s: string) => string = (s) => s;
  const publishers: Spawned[] = [];
  const readers: Spawned[] = [];
  let failed = false;
  const figures: string[] = [];
  /** Every address of the origin a viewer could be told: its NAT's outside address and its LAN address. */
  const originAddresses = () => [nat.ip, LAN.origin];

  async function step(fn: () => Promise<void>): Promise<void> {
    if (failed) throw new Error('not run: an earlier step failed');
    try {
      await fn();
    } catch (err) {
      failed = true;
      console.log(`\n===== haven logs at the failure =====\n${redact(t?.logs() ?? '')}`);
      throw err;
    }
  }

  const api = <T>(p: string) => t.fetchJson<T>(origin, `http://127.0.0.1:8880${p}`, { token });
  const status = () => api<{ streams: Array<{ ready: boolean }>; nodes: Array<{ name: string; health: string }> }>('/api/status');

  /** The nft counter `name` in table `inet hvpriv` of a namespace, in packets. */
  async function counter(host: Host, name: string): Promise<number> {
    const out = await t.h.execOk(host.ns, 'nft', ['-j', 'list', 'counter', 'inet', PREFIX, name]);
    const j = JSON.parse(out) as { nftables: Array<{ counter?: { packets: number } }> };
    return j.nftables.find((x) => x.counter)?.counter?.packets ?? -1;
  }

  /** A player emulator (test/helpers/rtsp-players.ts) run inside the viewer's namespace. */
  async function emulate(viewer: Host, kind: 'media3' | 'ms-rtsp', url: string, ua: string): Promise<PlayResult> {
    const r = await t.h.exec(viewer.ns, process.execPath, ['--import', 'tsx', 'test/helpers/play-cli.ts', kind, url, ua], { cwd: repoRoot, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`play-cli ${kind} failed: ${redact(r.stderr.slice(-1500))}`);
    return JSON.parse(r.stdout) as PlayResult;
  }

  /** ffmpeg reading `url` without decoding (-c copy), held until stopped. */
  function hold(viewer: Host, url: string): Spawned {
    const p = t.h.spawn(viewer.ns, 'ffmpeg', ['-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url, '-t', '120', '-c', 'copy', '-f', 'null', '-']);
    readers.push(p);
    return p;
  }

  function publish(host: Host, rtmpUrl: string): Spawned {
    const p = t.h.spawn(host.ns, 'ffmpeg', [
      '-nostdin', '-loglevel', 'error', '-re',
      '-f', 'lavfi', '-i', `testsrc=size=${SIZE}:rate=${FPS}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(FPS),
      '-t', '900', '-f', 'flv', rtmpUrl,
    ]);
    publishers.push(p);
    return p;
  }

  /** Bytes sent by the namespace's interface `ifname` (its kernel counter). */
  async function txBytes(host: Host, ifname: string): Promise<number> {
    return Number((await t.h.execOk(host.ns, 'cat', [`/sys/class/net/${ifname}/statistics/tx_bytes`])).trim());
  }

  beforeAll(async () => {
    requireTool('nft', 'apt-get install nftables');
    requireTool('tcpdump', 'apt-get install tcpdump');
    t = await Topology.create(PREFIX);
    // The streamer's home router: on the internet as 172.31.30.2, the origin behind it on a LAN.
    nat = await t.host('nat', 30);
    const originNs = await t.h.namespace('origin');
    const lan = await t.h.link(nat.ns, `${LAN.router}/24`, originNs, `${LAN.origin}/24`);
    await t.h.execOk(originNs, 'ip', ['route', 'add', 'default', 'via', LAN.router]);
    origin = { name: 'origin', ns: originNs, ip: LAN.origin, subnet: LAN.cidr };
    t.hosts.set('origin', origin);
    for (const [name, index] of [['node-a', 11], ['node-b', 12]] as const) nodes[name] = await t.host(name, index);
    for (let i = 1; i <= 3; i++) viewers.push(await t.host(`viewer-${i}`, i));
    const viewerSet = `{ ${viewers.map((v) => v.subnet).join(', ')} }`;
    const nodeSet = `{ ${Object.values(nodes).map((n) => n.subnet).join(', ')} }`;
    await t.h.execOk(nat.ns, 'sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    // Masquerade out; forward in only what answers a connection from the LAN; count what comes in.
    const natRules = `
table inet ${PREFIX} {
  counter viewer_to_origin {}
  counter node_to_origin {}
  counter dropped_in {}
  chain count_in {
    type filter hook prerouting priority -300; policy accept;
    ip saddr ${viewerSet} ip daddr { ${nat.ip}, ${LAN.origin} } counter name viewer_to_origin
    ip saddr ${nodeSet} ip daddr ${nat.ip} counter name node_to_origin
  }
  chain forward_in {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "${lan.a}" ip saddr ${LAN.cidr} accept
    counter name dropped_in drop
  }
  chain cut {
    type filter hook forward priority -10; policy accept;
  }
  chain masq_out {
    type nat hook postrouting priority 100; policy accept;
    ip saddr ${LAN.cidr} oifname != "${lan.a}" masquerade
  }
}`;
    await writeFile(path.join(t.base, 'nat.nft'), natRules);
    await t.h.execOk(nat.ns, 'nft', ['-f', path.join(t.base, 'nat.nft')]);
    const originRules = `
table inet ${PREFIX} {
  counter viewer_in {}
  chain count_input {
    type filter hook input priority -300; policy accept;
    ip saddr ${viewerSet} counter name viewer_in
  }
}`;
    const file = path.join(t.base, 'origin.nft');
    await writeFile(file, originRules);
    await t.h.execOk(originNs, 'nft', ['-f', file]);
  }, 300_000);

  afterAll(async () => {
    for (const line of figures) console.log(line);
    for (const p of [...readers, ...publishers]) await p.stop('SIGTERM', 3000).catch(() => {});
    await t?.cleanup();
  }, 60_000);

  it('the origin from `haven init` (exposure unset) adds two entry nodes, which makes it private; they join, and the origin dials them from behind the NAT', async () => {
    await step(async () => {
      originDir = await t.dir(origin);
      await t.cliOk(origin, originDir, ['init', '--name', 'origin', '--public-host', nat.ip, '--region', 'eu-central']);
      // The default is what is tested: the template leaves `exposure` commented out.
      expect(await readFile(path.join(originDir, 'haven.yaml'), 'utf8')).not.toMatch(/^exposure:/m);
      redact = await makeSecretsRedactor(originDir);
      const bundles: Record<string, string> = {};
      for (const [name, region] of [['node-a', 'eu-central'], ['node-b', 'us-east']] as const) {
        const { dir, share, added, bundle } = await t.addNode(origin, originDir, nodes[name], name, region);
        nodeDirs[name] = dir;
        nodeKeys[name] = decodeShareCode(share).publicKey;
        // The first node makes this origin private (exposure unset); the origin is not running yet.
        if (name === 'node-a') expect(added.stderr).toMatch(/this origin is private from its next start \(exposure unset and the Haven has 1 node\)/);
        else expect(added.stderr).not.toMatch(/private from its next start/);
        bundles[name] = bundle;
        // The viewer password never reaches a node in clear: the bundle carries none.
        expect(decodeJoinBundle(bundles[name]).viewer).toEqual({ user: 'viewer' });
        originWg = defaultInterfaceName(decodeJoinBundle(bundles[name]).origin.publicKey);
      }
      originHaven = await t.start(origin, originDir);
      token = (await readFile(path.join(originDir, 'state', 'api-token'), 'utf8')).trim();
      // OBS on the streamer's own machine (ingest on loopback).
      const urls = JSON.parse((await t.cliOk(origin, originDir, ['urls', '--json'])).stdout) as { publish: Array<{ rtmp: string }> };
      expect(new URL(urls.publish[0]!.rtmp).hostname).toBe('127.0.0.1');
      publish(origin, urls.publish[0]!.rtmp);
      await waitFor('the stream live at the origin', async () => (await status()).streams[0]?.ready, 30_000, 250);
      const exposure = (await api<{ exposure?: { mode: string; why: string; change?: string } }>('/api/status')).exposure;
      expect(exposure).toEqual({ mode: 'private', why: 'exposure unset and the Haven has 2 nodes' });

      for (const name of ['node-a', 'node-b'] as const) {
        await t.cliOk(nodes[name], nodeDirs[name]!, ['node', 'join', bundles[name]!]);
        await t.start(nodes[name], nodeDirs[name]!);
      }
      await waitFor('both entry nodes healthy at the origin', async () => (await status()).nodes.filter((n) => n.name !== 'origin' && n.health === 'up').length === 2, 90_000, 250);
      // Each tunnel was opened by the origin: the node's peer for the origin now has the NAT's address as
      // its endpoint (WireGuard learned it from the origin's handshake; the bundle's endpoint is unreachable).
      for (const name of ['node-a', 'node-b'] as const) {
        const wg = defaultInterfaceName(nodeKeys[name]!);
        const ep = await t.h.execOk(nodes[name].ns, 'wg', ['show', wg, 'endpoints']);
        expect(ep).toContain(`${nat.ip}:`);
      }
      // Nothing of the origin listens on a public address: its gateway is on loopback.
      const listening = await t.h.execOk(origin.ns, 'ss', ['-Htln']);
      const exposed = listening
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[3] ?? '')
        .filter((a) => a && !/^(127\.|\[::1\]|10\.)/.test(a));
      expect(exposed, `TCP listeners of the origin on a non-loopback, non-VPN address: ${exposed.join(', ')}`).toEqual([]);
      // UDP: only WireGuard's own socket (the tunnels the origin dials go out from it).
      const udp = (await t.h.execOk(origin.ns, 'ss', ['-Huln']))
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[3] ?? '')
        .filter((a) => a && !/^(127\.|\[::1\]|10\.)/.test(a));
      expect(udp.every((a) => a.endsWith(':51820')), `UDP sockets of the origin on a non-loopback address: ${udp.join(', ')}`).toBe(true);
    });
  });

  it('haven urls, the status page and /api/urls give one URL per entry, by region, and never the origin', async () => {
    await step(async () => {
      const r = await t.cliOk(origin, originDir, ['urls']);
      urlsText = `${r.stdout}\n${r.stderr}`;
      const json = JSON.parse((await t.cliOk(origin, originDir, ['urls', '--json'])).stdout) as { viewer: Array<{ entry?: string; region?: string; rtsp: string }>; vrchat: string };
      expect(json.viewer.map((v) => v.entry)).toEqual(['node-a', 'node-b']); // eu-central before us-east
      entryUrls = Object.fromEntries(json.viewer.map((v) => [v.entry!, v.rtsp]));
      expect(new URL(entryUrls['node-a']!).host).toBe(`${nodes['node-a'].ip}:8554`);
      expect(urlsText).toMatch(/VRChat world: Paste the rtspt:\/\/ URL of the entry in the world's region/);
      const page = await t.exec(origin, 'curl', ['-fsS', 'http://127.0.0.1:8880/']);
      expect(page.code).toBe(0);
      const answers = [
        urlsText,
        JSON.stringify(json),
        page.stdout,
        JSON.stringify(await api('/api/status')),
        JSON.stringify(await api('/api/urls')),
        JSON.stringify(await api('/api/nodes')),
      ];
      const links = (await api<{ links: Array<{ node: string | null }> }>('/api/status')).links;
      expect(links.map((l) => l.node)).toEqual(['node-a', 'node-b']);
      for (const a of originAddresses()) for (const text of answers) expect(text.includes(a), `${a} in ${redact(text).slice(0, 300)}`).toBe(false);
    });
  });

  it('viewers given only entry URLs play: ffprobe, the MS-RTSP and media3 emulators; nothing they see names the origin', async () => {
    await step(async () => {
      for (const [i, entry] of [[0, 'node-a'], [1, 'node-b']] as const) {
        const p = await probe(t, viewers[i]!, entryUrls[entry]!);
        expect(p.code, redact(p.stderr.slice(-1500))).toBe(0);
        expect(p.codecs).toContain('h264');
      }
      const ms = await emulate(viewers[2]!, 'ms-rtsp', entryUrls['node-a']!, 'Microsoft-Windows/10.0 UPnP/1.0');
      expect(ms.played, JSON.stringify(ms)).toBe(true);
      const m3 = await emulate(viewers[2]!, 'media3', entryUrls['node-b']!, 'AndroidXMedia3/1.5.1');
      expect(m3.played, JSON.stringify(m3)).toBe(true);
      for (const r of [ms, m3]) for (const hop of r.hops) expect(originAddresses()).not.toContain(hop.host);
      // Every RTSP answer and the SDP a viewer gets (ffprobe at trace level prints them).
      const trace = await t.exec(viewers[0]!, 'ffprobe', ['-v', 'trace', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'json', entryUrls['node-a']!], 30_000);
      expect(trace.code).toBe(0);
      expect(trace.stderr).toMatch(/RTSP\/1\.0 200/);
      for (const a of originAddresses()) expect(trace.stderr.includes(a), `${a} in a viewer-visible answer`).toBe(false);
      // HLS from an entry's own MediaMTX: the password checked against the routing state's HA1 (MediaMTX
      // answers the first request with a 302 that sets its session cookie: curl follows it with cookies on).
      const hls = (JSON.parse((await t.cliOk(origin, originDir, ['urls', '--json'])).stdout) as { viewer: Array<{ entry?: string; hls: string }> }).viewer.find((v) => v.entry === 'node-a')!.hls;
      let last = '';
      const playlist = await waitFor('the HLS playlist of node-a', async () => {
        const r = await t.exec(viewers[1]!, 'curl', ['-sS', '-L', '-b', '', '--max-time', '10', hls]);
        last = redact(`${r.code} ${r.stdout.slice(0, 200)} ${r.stderr.slice(-300)}`);
        return r.stdout.includes('#EXTM3U') ? r.stdout : undefined;
      }, 30_000, 1000).catch((err: Error) => {
        throw new Error(`${err.message}; last answer: ${last}`);
      });
      expect(playlist).toContain('#EXTM3U');
      const wrong = await t.exec(viewers[1]!, 'curl', ['-sS', '-L', '-b', '', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', hls.replace(/viewer:[^@]+@/, 'viewer:NotThePassword1@')]);
      expect(wrong.stdout).toBe('401');
      // No file a node keeps holds the viewer password (its secrets hold a random value of its own).
      const viewerPassword = (JSON.parse(await readFile(path.join(originDir, 'state', 'secrets.json'), 'utf8')) as { viewerPassword: string }).viewerPassword;
      for (const name of ['node-a', 'node-b']) {
        const grep = await t.exec(nodes[name as 'node-a'], 'grep', ['-rlF', viewerPassword, nodeDirs[name]!]);
        expect(grep.stdout.trim(), `files of ${name} holding the viewer password`).toBe('');
      }
      figures.push(`[private origin] plays from entries: ffprobe on node-a and node-b, MS-RTSP ${ms.packets} packets (hops ${ms.hops.map((h) => h.host).join(' > ')}), media3 ${m3.packets} packets`);
    });
  });

  it('the origin egress per viewer: 1 node x 6 viewers (WireGuard bytes) against 6 viewers straight to a public origin', async () => {
    await step(async () => {
      // 6 readers on entry node-a, two from each viewer namespace.
      const held = viewers.flatMap((v) => [hold(v, entryUrls['node-a']!), hold(v, entryUrls['node-a']!)]);
      const aWg = nodeKeys['node-a']!;
      await waitFor('6 readers on node-a', async () => {
        const s = await api<{ nodes: Array<{ name: string; viewers: number }> }>('/api/status');
        return (s.nodes.find((n) => n.name === 'node-a')?.viewers ?? 0) >= 6;
      }, 60_000, 500);
      const before = await t.wgTransfer(origin, originWg);
      const outBefore = await txBytes(origin, (await lanIf(origin)));
      await new Promise((r) => setTimeout(r, WINDOW_MS));
      const after = await t.wgTransfer(origin, originWg);
      const outAfter = await txBytes(origin, (await lanIf(origin)));
      const toA = (after.get(aWg)?.tx ?? 0) - (before.get(aWg)?.tx ?? 0);
      const allWg = [...after.entries()].reduce((n, [k, v]) => n + v.tx - (before.get(k)?.tx ?? 0), 0);
      for (const p of held) await p.stop('SIGTERM', 3000);
      expect(held.length).toBe(6);

      // The same 6 viewers straight to an origin with no node (`haven init`: public while it has none).
      const pub = await t.host('public-origin', 40);
      const pubDir = await t.dir(pub);
      await t.cliOk(pub, pubDir, ['init', '--name', 'origin', '--public-host', pub.ip, '--region', 'eu-central']);
      await t.start(pub, pubDir);
      const pubUrls = JSON.parse((await t.cliOk(pub, pubDir, ['urls', '--json'])).stdout) as { publish: Array<{ rtmp: string }>; viewer: Array<{ rtsp: string }> };
      expect(new URL(pubUrls.viewer[0]!.rtsp).host).toBe(`${pub.ip}:8554`);
      publish(pub, pubUrls.publish[0]!.rtmp);
      await waitFor('the stream live at the public origin', async () => (await t.fetchJson<{ streams: Array<{ ready: boolean }> }>(pub, 'http://127.0.0.1:8880/api/status', { token: (await readFile(path.join(pubDir, 'state', 'api-token'), 'utf8')).trim() })).streams[0]?.ready, 30_000, 250);
      const straight = viewers.flatMap((v) => [hold(v, pubUrls.viewer[0]!.rtsp), hold(v, pubUrls.viewer[0]!.rtsp)]);
      const pubIf = await lanIf(pub);
      await waitFor('6 readers at the public origin', async () => (await t.tcpPeers(pub)).filter((p) => viewers.some((v) => p.startsWith(`${v.ip}:`))).length >= 6, 60_000, 500);
      await new Promise((r) => setTimeout(r, 2000));
      const pubBefore = await txBytes(pub, pubIf);
      await new Promise((r) => setTimeout(r, WINDOW_MS));
      const pubAfter = await txBytes(pub, pubIf);
      for (const p of straight) await p.stop('SIGTERM', 3000);
      const pubOut = pubAfter - pubBefore;
      const perPrivate = toA / 6;
      const perPublic = pubOut / 6;
      figures.push(
        `[private origin] origin egress over ${WINDOW_MS / 1000} s, 6 viewers: through 1 entry node ${toA} B WireGuard tx to node-a (all peers ${allWg} B, outside interface ${outAfter - outBefore} B) = ${Math.round(perPrivate)} B/viewer; ` +
          `straight to a public origin ${pubOut} B = ${Math.round(perPublic)} B/viewer; ratio private/public ${(perPrivate / perPublic).toFixed(3)} (1/${(perPublic / perPrivate).toFixed(1)})`,
      );
      expect(toA).toBeGreaterThan(0);
      expect(perPrivate).toBeLessThan(perPublic / 2);
    });
  });

  it('no packet from any viewer namespace reached the origin (nft counters on the NAT and the origin)', async () => {
    await step(async () => {
      const toOrigin = await counter(nat, 'viewer_to_origin');
      const inOrigin = await counter(origin, 'viewer_in');
      const fromNodes = await counter(nat, 'node_to_origin');
      figures.push(`[private origin] nft: viewer packets to the origin's addresses ${toOrigin} (at the NAT), ${inOrigin} (at the origin); node packets to the NAT's address ${fromNodes} (the counters count)`);
      expect(fromNodes).toBeGreaterThan(0);
      expect(toOrigin).toBe(0);
      expect(inOrigin).toBe(0);
    });
  });

  it('an entry dies: a viewer re-opens through the other entry URL and plays; the origin never restarts', async () => {
    await step(async () => {
      const pid = originHaven.proc.child.pid;
      const killedAt = Date.now();
      await t.killHost(nodes['node-a']);
      let firstFrameAt = 0;
      await waitFor(
        'a frame through node-b after node-a died',
        async () => {
          const r = await t.exec(viewers[0]!, 'ffmpeg', ['-nostdin', '-v', 'error', '-rtsp_transport', 'tcp', '-i', entryUrls['node-b']!, '-frames:v', '1', '-f', 'null', '-'], 20_000);
          if (r.code !== 0) return false;
          firstFrameAt = Date.now();
          return true;
        },
        60_000,
        200,
      );
      figures.push(`[private origin] node-a killed -> first frame through node-b after ${((firstFrameAt - killedAt) / 1000).toFixed(2)} s`);
      expect(originHaven.proc.child.exitCode).toBeNull();
      expect(originHaven.proc.child.pid).toBe(pid);
      expect((await status()).streams[0]?.ready).toBe(true);
    });
  });

  it('an entry that loses the origin says so in `haven status` and serves no viewer itself; it recovers when the tunnel is back', async () => {
    await step(async () => {
      const b = nodes['node-b'];
      const dir = nodeDirs['node-b']!;
      // The NAT drops everything between the origin and node-b (its WireGuard and all).
      await t.h.execOk(nat.ns, 'nft', ['add', 'rule', 'inet', PREFIX, 'cut', 'ip', 'daddr', b.ip, 'drop']);
      await t.h.execOk(nat.ns, 'nft', ['add', 'rule', 'inet', PREFIX, 'cut', 'ip', 'saddr', b.ip, 'drop']);
      const lost = await waitFor(
        'node-b to report the origin lost',
        async () => {
          const r = await t.cli(b, dir, ['status']);
          return r.code === 1 && /routing state: origin-lost/.test(r.stdout) ? r.stdout : undefined;
        },
        60_000,
        500,
      );
      figures.push(`[private origin] node-b cut from the origin: \`haven status\` -> ${lost.trim().split('\n').pop()}`);
      const p = await probe(t, viewers[0]!, entryUrls['node-b']!);
      expect(p.servedBy === `${b.ip}:8554` && p.code === 0, 'node-b served a viewer with no origin').toBe(false);

      await t.h.execOk(nat.ns, 'nft', ['flush', 'chain', 'inet', PREFIX, 'cut']);
      await waitFor('node-b current again', async () => (await t.cli(b, dir, ['status'])).code === 0, 90_000, 1000);
      const again = await waitFor(
        'a viewer playing through node-b again',
        async () => {
          const r = await probe(t, viewers[0]!, entryUrls['node-b']!);
          return r.code === 0 ? r : undefined;
        },
        90_000,
        1000,
      );
      expect(again.codecs).toContain('h264');
    });
  });

  /** The namespace's interface towards the outside (the one its default route uses). */
  async function lanIf(host: Host): Promise<string> {
    const out = await t.h.execOk(host.ns, 'ip', ['route', 'show', 'default']);
    const dev = /dev (\S+)/.exec(out)?.[1];
    if (!dev) throw new Error(`no default route in ${host.name}: ${out}`);
    return dev;
  }
});
