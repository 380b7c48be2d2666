/**
 * A private origin (issue 15's Must show), shared by the `private-origin*.test.ts` files: the
 * streamer's machine sits behind a NAT namespace (nftables masquerade out, nothing forwarded in) and
 * opens no port; two friends' entry nodes are the front door. Every config comes from `haven init`
 * unedited (no `--exposure`: private is the default once the origin has a node); real wireguard-go,
 * MediaMTX and ffmpeg. The origin dials each node's WireGuard endpoint (the nodes cannot reach it).
 * nft counters at the NAT and the origin count every viewer packet that reaches the origin's addresses.
 * Traffic goes only to addresses of the namespaces a file creates (172.31.0.0/16, 192.168.77.0/24).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { decodeJoinBundle, decodeShareCode, defaultInterfaceName } from '@haven/plugin-wireguard';
import { waitFor, type Spawned } from '../helpers/process.js';
import { repoRoot, requireTool } from '../helpers/tools.js';
import type { PlayResult } from '../helpers/rtsp-players.js';
import { Topology, type HavenProcess, type Host } from './topology.js';
import { makeSecretsRedactor } from './viewers.js';

const FPS = 25;
const SIZE = '320x240';
/** The streamer's LAN behind the NAT router. */
const LAN = { router: '192.168.77.1', origin: '192.168.77.2', cidr: '192.168.77.0/24' };

export type Entry = 'node-a' | 'node-b';

/** What `haven urls --json` says for viewers (the part these tests read). */
interface ViewerUrls {
  viewer: Array<{ entry?: string; region?: string; rtsp: string }>;
  vrchat: string;
}

/** The scenario's hosts, its Havens and what the tests learn on the way; made by `usePrivateOrigin`. */
export class PrivateOrigin {
  t!: Topology;
  nat!: Host;
  origin!: Host;
  originDir = '';
  originHaven!: HavenProcess;
  readonly nodes = {} as Record<Entry, Host>;
  readonly nodeDirs: Record<string, string> = {};
  /** Each entry's WireGuard public key. */
  readonly nodeKeys: Record<string, string> = {};
  /** viewer-1..3, each in its own namespace and subnet. */
  readonly viewers: Host[] = [];
  /** The origin's WireGuard interface. */
  originWg = '';
  /** Each entry's viewer RTSP URL, by entry name (set by `loadEntryUrls`). */
  entryUrls: Record<string, string> = {};
  /** The origin's control API token. */
  token = '';
  redact: (s: string) => string = (s) => s;
  /** Lines printed after the file's tests. */
  readonly figures: string[] = [];
  readonly #publishers: Spawned[] = [];
  readonly #readers: Spawned[] = [];
  #failed = false;

  constructor(readonly prefix: string) {}

  /** Every address of the origin a viewer could be told: its NAT's outside address and its LAN address. */
  originAddresses(): string[] {
    return [this.nat.ip, LAN.origin];
  }

  /** Runs one step of the scenario; after a failed one, the next steps fail at once (the logs printed once). */
  async step(fn: () => Promise<void>): Promise<void> {
    if (this.#failed) throw new Error('not run: an earlier step failed');
    try {
      await fn();
    } catch (err) {
      this.#failed = true;
      console.log(`\n===== haven logs at the failure =====\n${this.redact(this.t?.logs() ?? '')}`);
      throw err;
    }
  }

  /** A GET of the origin's control API (from inside its namespace, with its token). */
  api<T>(p: string): Promise<T> {
    return this.t.fetchJson<T>(this.origin, `http://127.0.0.1:8880${p}`, { token: this.token });
  }

  status() {
    return this.api<{ streams: Array<{ ready: boolean }>; nodes: Array<{ name: string; health: string }> }>('/api/status');
  }

  /** The nft counter `name` in table `inet <prefix>` of a namespace, in packets. */
  async counter(host: Host, name: string): Promise<number> {
    const out = await this.t.h.execOk(host.ns, 'nft', ['-j', 'list', 'counter', 'inet', this.prefix, name]);
    const j = JSON.parse(out) as { nftables: Array<{ counter?: { packets: number } }> };
    return j.nftables.find((x) => x.counter)?.counter?.packets ?? -1;
  }

  /** A player emulator (test/helpers/rtsp-players.ts) run inside the viewer's namespace. */
  async emulate(viewer: Host, kind: 'media3' | 'ms-rtsp', url: string, ua: string): Promise<PlayResult> {
    const r = await this.t.h.exec(viewer.ns, process.execPath, ['--import', 'tsx', 'test/helpers/play-cli.ts', kind, url, ua], { cwd: repoRoot, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`play-cli ${kind} failed: ${this.redact(r.stderr.slice(-1500))}`);
    return JSON.parse(r.stdout) as PlayResult;
  }

  /** ffmpeg reading `url` without decoding (-c copy), held until stopped. */
  hold(viewer: Host, url: string): Spawned {
    const p = this.t.h.spawn(viewer.ns, 'ffmpeg', ['-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url, '-t', '120', '-c', 'copy', '-f', 'null', '-']);
    this.#readers.push(p);
    return p;
  }

  publish(host: Host, rtmpUrl: string): Spawned {
    const p = this.t.h.spawn(host.ns, 'ffmpeg', [
      '-nostdin', '-loglevel', 'error', '-re',
      '-f', 'lavfi', '-i', `testsrc=size=${SIZE}:rate=${FPS}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(FPS),
      '-t', '900', '-f', 'flv', rtmpUrl,
    ]);
    this.#publishers.push(p);
    return p;
  }

  /** Bytes sent by the namespace's interface `ifname` (its kernel counter). */
  async txBytes(host: Host, ifname: string): Promise<number> {
    return Number((await this.t.h.execOk(host.ns, 'cat', [`/sys/class/net/${ifname}/statistics/tx_bytes`])).trim());
  }

  /** The namespace's interface towards the outside (the one its default route uses). */
  async lanIf(host: Host): Promise<string> {
    const out = await this.t.h.execOk(host.ns, 'ip', ['route', 'show', 'default']);
    const dev = /dev (\S+)/.exec(out)?.[1];
    if (!dev) throw new Error(`no default route in ${host.name}: ${out}`);
    return dev;
  }

  /** The hosts: the NAT router with the origin on its LAN, the two entries, three viewers; the nft rules and counters. */
  async setUp(): Promise<void> {
    const prefix = this.prefix;
    requireTool('nft', 'apt-get install nftables');
    requireTool('tcpdump', 'apt-get install tcpdump');
    const t = (this.t = await Topology.create(prefix));
    // The streamer's home router: on the internet as 172.31.30.2, the origin behind it on a LAN.
    const nat = (this.nat = await t.host('nat', 30));
    const originNs = await t.h.namespace('origin');
    const lan = await t.h.link(nat.ns, `${LAN.router}/24`, originNs, `${LAN.origin}/24`);
    await t.h.execOk(originNs, 'ip', ['route', 'add', 'default', 'via', LAN.router]);
    this.origin = { name: 'origin', ns: originNs, ip: LAN.origin, subnet: LAN.cidr };
    t.hosts.set('origin', this.origin);
    for (const [name, index] of [['node-a', 11], ['node-b', 12]] as const) this.nodes[name] = await t.host(name, index);
    for (let i = 1; i <= 3; i++) this.viewers.push(await t.host(`viewer-${i}`, i));
    const viewerSet = `{ ${this.viewers.map((v) => v.subnet).join(', ')} }`;
    const nodeSet = `{ ${Object.values(this.nodes).map((n) => n.subnet).join(', ')} }`;
    await t.h.execOk(nat.ns, 'sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    // Masquerade out; forward in only what answers a connection from the LAN; count what comes in.
    const natRules = `
table inet ${prefix} {
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
table inet ${prefix} {
  counter viewer_in {}
  chain count_input {
    type filter hook input priority -300; policy accept;
    ip saddr ${viewerSet} counter name viewer_in
  }
}`;
    const file = path.join(t.base, 'origin.nft');
    await writeFile(file, originRules);
    await t.h.execOk(originNs, 'nft', ['-f', file]);
  }

  /** Prints the figures, stops every reader and publisher, removes the namespaces (also after a failure). */
  async tearDown(): Promise<void> {
    for (const line of this.figures) console.log(line);
    for (const p of [...this.#readers, ...this.#publishers]) await p.stop('SIGTERM', 3000).catch(() => {});
    await this.t?.cleanup();
  }

  /**
   * The origin from `haven init` (exposure unset) adds both entries, which makes it private, starts
   * with OBS publishing on loopback; the entries join and start, and the origin dials them from behind
   * the NAT. Checks each of these as it goes, and that nothing of the origin listens outside loopback
   * and the VPN but WireGuard's own socket.
   */
  async bringUp(): Promise<void> {
    const { t, nat, origin, nodes, nodeDirs, nodeKeys } = this;
    const originDir = (this.originDir = await t.dir(origin));
    await t.cliOk(origin, originDir, ['init', '--name', 'origin', '--public-host', nat.ip, '--region', 'eu-central']);
    // The default is what is tested: the template leaves `exposure` commented out.
    expect(await readFile(path.join(originDir, 'haven.yaml'), 'utf8')).not.toMatch(/^exposure:/m);
    this.redact = await makeSecretsRedactor(originDir);
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
      this.originWg = defaultInterfaceName(decodeJoinBundle(bundles[name]).origin.publicKey);
    }
    this.originHaven = await t.start(origin, originDir);
    this.token = (await readFile(path.join(originDir, 'state', 'api-token'), 'utf8')).trim();
    // OBS on the streamer's own machine (ingest on loopback).
    const urls = JSON.parse((await t.cliOk(origin, originDir, ['urls', '--json'])).stdout) as { publish: Array<{ rtmp: string }> };
    expect(new URL(urls.publish[0]!.rtmp).hostname).toBe('127.0.0.1');
    this.publish(origin, urls.publish[0]!.rtmp);
    await waitFor('the stream live at the origin', async () => (await this.status()).streams[0]?.ready, 30_000, 250);
    const exposure = (await this.api<{ exposure?: { mode: string; why: string; change?: string } }>('/api/status')).exposure;
    expect(exposure).toEqual({ mode: 'private', why: 'exposure unset and the Haven has 2 nodes' });

    for (const name of ['node-a', 'node-b'] as const) {
      await t.cliOk(nodes[name], nodeDirs[name]!, ['node', 'join', bundles[name]!]);
      await t.start(nodes[name], nodeDirs[name]!);
    }
    await waitFor('both entry nodes healthy at the origin', async () => (await this.status()).nodes.filter((n) => n.name !== 'origin' && n.health === 'up').length === 2, 90_000, 250);
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
  }

  /** `haven urls --json` at the origin; keeps each entry's viewer RTSP URL in `entryUrls`. */
  async loadEntryUrls(): Promise<ViewerUrls> {
    const json = JSON.parse((await this.t.cliOk(this.origin, this.originDir, ['urls', '--json'])).stdout) as ViewerUrls;
    this.entryUrls = Object.fromEntries(json.viewer.map((v) => [v.entry!, v.rtsp]));
    return json;
  }
}

/**
 * The scenario for the calling `describe`, in namespaces named with `prefix` (unique per test file:
 * a topology removes everything with its prefix when it starts). Its hosts and nft rules are set up
 * before the first test; with `joined`, the origin is also brought up with both entries joined
 * (`bringUp`) and `entryUrls` loaded. Everything is stopped and removed after the last test.
 */
export function usePrivateOrigin(prefix: string, opts: { joined?: boolean } = {}): PrivateOrigin {
  const po = new PrivateOrigin(prefix);
  beforeAll(async () => {
    await po.setUp();
    if (opts.joined) {
      await po.step(async () => {
        await po.bringUp();
        await po.loadEntryUrls();
      });
    }
  }, opts.joined ? 420_000 : 300_000);
  afterAll(() => po.tearDown(), 60_000);
  return po;
}
