/**
 * The crowd's Haven, built as users build it: `haven init` on a private origin behind an nftables NAT
 * (masquerade out, nothing forwarded in; as test/e2e/private-origin.test.ts), `node keygen` on every
 * friend's machine, `node add` on the origin, `node join` and `haven start` on the nodes. The only edits
 * are YAML keys the README documents: `relay.maxChildren`, each node entry's `capacity`, and the geo
 * plugin's `overrides` that place the viewer namespaces in the nodes' regions.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeJoinBundle, decodeShareCode, defaultInterfaceName } from '@haven/plugin-wireguard';
import { waitFor } from '../../test/helpers/process.js';
import { Topology, type Host } from '../../test/e2e/topology.js';

/** A CLI command's deadline: on a busy shared machine even `haven init` has taken over 30 s. */
const CLI_MS = 120_000;

/** The streamer's LAN behind the NAT router. */
const LAN = { router: '192.168.77.1', origin: '192.168.77.2', cidr: '192.168.77.0/24' };

export interface CrowdNode {
  name: string;
  host: Host;
  dir: string;
  region: string;
  /** Its WireGuard public key (the origin's peer for it). */
  key: string;
  capacity: number;
}

export interface ViewerPlace {
  host: Host;
  region: string;
  /** Every address readers of this namespace use (its own and aliases on the same /24). */
  addresses: string[];
}

export interface Crowd {
  t: Topology;
  nat: Host;
  origin: Host;
  originDir: string;
  /** The origin's WireGuard interface. */
  originWg: string;
  nodes: CrowdNode[];
  viewers: ViewerPlace[];
  /** Entry URL (rtsp://viewer:…@node:8554/live) per node name, as `haven urls --json` gives them. */
  entries: Map<string, string>;
  token: string;
  rtmpUrl: string;
}

export interface CrowdShape {
  prefix: string;
  regions: string[];
  addressesPerPlace: number;
  maxChildren: number;
  capacity: number;
}

/** The interface a namespace's default route uses. */
async function defaultDev(t: Topology, host: Host): Promise<string> {
  const out = await t.h.execOk(host.ns, 'ip', ['route', 'show', 'default']);
  const dev = /dev (\S+)/.exec(out)?.[1];
  if (!dev) throw new Error(`no default route in ${host.name}: ${out}`);
  return dev;
}

/** Namespaces, NAT and addresses; no Haven yet. */
export async function buildNetwork(t: Topology, shape: CrowdShape): Promise<Pick<Crowd, 'nat' | 'origin'> & { nodeHosts: Host[]; viewers: ViewerPlace[] }> {
  const nat = await t.host('nat', 30);
  const originNs = await t.h.namespace('origin');
  const lan = await t.h.link(nat.ns, `${LAN.router}/24`, originNs, `${LAN.origin}/24`);
  await t.h.execOk(originNs, 'ip', ['route', 'add', 'default', 'via', LAN.router]);
  const origin: Host = { name: 'origin', ns: originNs, ip: LAN.origin, subnet: LAN.cidr };
  t.hosts.set('origin', origin);
  await t.h.execOk(nat.ns, 'sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
  // Masquerade out; forward in only what answers a connection from the LAN.
  const rules = `
table inet ${shape.prefix} {
  chain forward_in {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "${lan.a}" ip saddr ${LAN.cidr} accept
  }
  chain masq_out {
    type nat hook postrouting priority 100; policy accept;
    ip saddr ${LAN.cidr} oifname != "${lan.a}" masquerade
  }
}`;
  const file = path.join(t.base, 'nat.nft');
  await writeFile(file, rules);
  await t.h.execOk(nat.ns, 'nft', ['-f', file]);
  const nodeHosts: Host[] = [];
  for (const [i] of shape.regions.entries()) nodeHosts.push(await t.host(`node-${i + 1}`, 11 + i));
  const viewers: ViewerPlace[] = [];
  for (const [i, region] of shape.regions.entries()) {
    const host = await t.host(`viewers-${i + 1}`, 1 + i);
    const dev = await defaultDev(t, host);
    const base = host.ip.slice(0, host.ip.lastIndexOf('.'));
    const addresses = [host.ip];
    for (let k = 1; k < shape.addressesPerPlace; k++) {
      const a = `${base}.${10 + k}`;
      await t.h.execOk(host.ns, 'ip', ['address', 'add', `${a}/24`, 'dev', dev]);
      addresses.push(a);
    }
    viewers.push({ host, region, addresses });
  }
  return { nat, origin, nodeHosts, viewers };
}

/** The Haven: origin init and config, nodes keygen/add/join/start, the publisher's RTMP URL. */
export async function buildHaven(t: Topology, shape: CrowdShape, net: Awaited<ReturnType<typeof buildNetwork>>): Promise<Crowd> {
  const { nat, origin, viewers } = net;
  const originDir = await t.dir(origin);
  await t.cliOk(origin, originDir, ['init', '--name', 'origin', '--public-host', nat.ip, '--region', shape.regions[0]!], CLI_MS);
  // Friends' machines make their keys at the same time; the streamer adds their share codes one by one.
  const shares = await Promise.all(
    net.nodeHosts.map(async (host, i) => {
      const region = shape.regions[i]!;
      const dir = await t.dir(host);
      await t.cliOk(host, dir, ['init', '--role', 'node', '--name', host.name, '--region', region, '--public-host', host.ip], CLI_MS);
      const share = (await t.cliOk(host, dir, ['node', 'keygen', '--region', region], CLI_MS)).stdout.trim();
      return { host, dir, region, share };
    }),
  );
  const nodes: CrowdNode[] = [];
  const bundles: string[] = [];
  let originWg = '';
  for (const { host, dir, region, share } of shares) {
    const added = await t.cliOk(origin, originDir, ['node', 'add', share, '--json'], CLI_MS);
    const bundle = (JSON.parse(added.stdout) as { bundle: string }).bundle;
    bundles.push(bundle);
    originWg = defaultInterfaceName(decodeJoinBundle(bundle).origin.publicKey);
    nodes.push({ name: host.name, host, dir, region, key: decodeShareCode(share).publicKey, capacity: shape.capacity });
  }
  await t.editConfig(originDir, (doc) => {
    doc.setIn(['relay', 'maxChildren'], shape.maxChildren);
    for (const i of nodes.keys()) doc.setIn(['nodes', i, 'capacity'], shape.capacity);
    doc.setIn(
      ['plugins', 'geo'],
      doc.createNode({ database: 'none', overrides: viewers.map((v, i) => ({ cidr: v.host.subnet, region: v.region, city: `place-${i + 1}` })) }),
    );
  });
  await t.start(origin, originDir, 120_000);
  const token = (await readFile(path.join(originDir, 'state', 'api-token'), 'utf8')).trim();
  await Promise.all(
    nodes.map(async (n, i) => {
      await t.cliOk(n.host, n.dir, ['node', 'join', bundles[i]!], CLI_MS);
      await t.start(n.host, n.dir, 120_000);
    }),
  );
  const urls = JSON.parse((await t.cliOk(origin, originDir, ['urls', '--json'], CLI_MS)).stdout) as { publish: Array<{ rtmp: string }>; viewer: Array<{ entry?: string; rtsp: string }> };
  const entries = new Map(urls.viewer.map((v) => [v.entry ?? '', v.rtsp]));
  for (const n of nodes) if (!entries.has(n.name)) throw new Error(`haven urls gave no entry URL for ${n.name}: ${[...entries.keys()].join(', ')}`);
  return { t, nat, origin, originDir, originWg, nodes, viewers, entries, token, rtmpUrl: urls.publish[0]!.rtmp };
}

/** The parts of the origin's `GET /api/status` the crowd reads. */
export interface CrowdStatus {
  streams: Array<{ ready: boolean }>;
  nodes: Array<{ name: string; health: string; viewers: number; reason?: string }>;
  relay?: { edges: Array<{ node: string; parent: string }>; originChildren: number };
}

/** The origin's status; tried three times (on a loaded machine one answer has taken over 10 s). */
export async function status(c: Crowd): Promise<CrowdStatus> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await c.t.fetchJson<CrowdStatus>(c.origin, 'http://127.0.0.1:8880/api/status', { token: c.token });
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

/** Every node healthy at the origin and placed in the relay tree. */
export async function waitNodesUp(c: Crowd, timeoutMs: number): Promise<CrowdStatus> {
  return waitFor(
    'every entry node up and placed in the relay tree',
    async () => {
      const s = await status(c);
      const up = s.nodes.filter((n) => n.name !== 'origin' && n.health === 'up').length;
      return up === c.nodes.length && (s.relay?.edges.length ?? 0) === c.nodes.length ? s : undefined;
    },
    timeoutMs,
    500,
  );
}
