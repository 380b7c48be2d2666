/**
 * Origin + 3 nodes, each in its own network namespace, over real WireGuard (kernel where the
 * kernel has it, wireguard-go otherwise). Traffic goes only to addresses of these namespaces.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWireGuardVpn,
  decodeJoinBundle,
  decodeShareCode,
  makeShareCode,
  nodeOptionsFromBundle,
  WG_SOCKET_DIR,
  type WireGuardVpn,
} from '@haven/plugin-wireguard';
import { leftovers, NetnsHarness } from '../helpers/netns.js';
import { waitFor, type Spawned } from '../helpers/process.js';
import { requireTool } from '../helpers/tools.js';
import { wireguardGoPids } from './wg-processes.js';

requireTool('wg', 'apt-get install wireguard-tools');
requireTool('wireguard-go', 'apt-get install wireguard-go');

const PREFIX = 'hvwg';
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
/** The origin's "public" address: on its loopback, routed from each node over its own veth. */
const PUBLIC = '10.200.0.1';
const WG_PORT = 21001;
/** TCP listeners on the VPN addresses (origin / each node): reachability targets. */
const ORIGIN_TCP = 21011;
const NODE_TCP = 21012;
const secrets = {
  relay: { url: 'rtsp://10.77.0.1:8555', user: 'relay', password: 'RelayPasswordForTheNetnsTest0123' },
  viewer: { user: 'viewer', password: 'ViewerPassword0123' },
  streams: ['live'],
};

interface Side {
  ns: string;
  dir: string;
  vpn: WireGuardVpn;
  veth?: string;
}

describe('wireguard in network namespaces', () => {
  let h: NetnsHarness;
  let base: string;
  let origin: Side;
  const nodes = new Map<string, Side>();
  const interfaces: string[] = [];

  const ok = (ns: string, cmd: string, args: string[]) => h.execOk(ns, cmd, args);
  /** A TCP connection from `ns` to ip:port opens (within 2 s). */
  const reach = async (ns: string, ip: string, port: number) => (await h.exec(ns, process.execPath, [fixture('tcp-probe.mjs'), ip, String(port), '2000'])).code === 0;
  async function listen(ns: string, ip: string, port: number): Promise<void> {
    const echo = h.spawn(ns, process.execPath, [fixture('tcp-echo.mjs'), ip, String(port)]);
    await waitFor(`listener on ${ip}:${port}`, () => echo.output().includes('LISTENING') || (echo.child.exitCode !== null && Promise.reject(new Error(echo.output()))));
  }
  const peerOf = async (key: string) => (await origin.vpn.peers()).find((p) => p.publicKey === key);
  const rawPeer = async (key: string) => (await origin.vpn.driver.dump()).peers.find((p) => p.publicKey === key);

  /** A node the way a person does it: share code -> origin adds it -> join bundle -> node up. */
  async function join(name: string, index: number): Promise<Side> {
    const ns = await h.namespace(name);
    const link = await h.link(origin.ns, `10.201.${index}.1/24`, ns, `10.201.${index}.2/24`);
    await ok(ns, 'ip', ['route', 'add', `${PUBLIC}/32`, 'via', `10.201.${index}.1`]);
    const dir = await mkdtemp(path.join(base, `${name}-`));
    const share = decodeShareCode(await makeShareCode({ stateDir: dir, region: 'eu-central', name }));
    await origin.vpn.addPeer({ publicKey: share.publicKey, name: share.name!, allowedIps: [] });
    const bundle = await origin.vpn.joinBundle({ name, publicKey: share.publicKey, ...secrets });
    const vpn = await createWireGuardVpn({
      role: 'node',
      stateDir: dir,
      netns: ns,
      interfaceName: `${PREFIX}${name}`,
      listenPort: WG_PORT + 1,
      ...nodeOptionsFromBundle(bundle),
    });
    h.defer(() => vpn.down());
    interfaces.push(vpn.interfaceName);
    await vpn.up();
    await listen(ns, vpn.address(), NODE_TCP);
    const side = { ns, dir, vpn, veth: link.b };
    nodes.set(name, side);
    return side;
  }

  beforeAll(async () => {
    h = await NetnsHarness.create(PREFIX);
    base = await mkdtemp(path.join(tmpdir(), 'hvwg-netns-'));
    const ns = await h.namespace('origin');
    await ok(ns, 'ip', ['address', 'add', `${PUBLIC}/32`, 'dev', 'lo']);
    const dir = await mkdtemp(path.join(base, 'origin-'));
    const vpn = await createWireGuardVpn({ role: 'origin', stateDir: dir, netns: ns, interfaceName: `${PREFIX}origin`, listenPort: WG_PORT, endpoint: `${PUBLIC}:${WG_PORT}` });
    h.defer(() => vpn.down());
    interfaces.push(vpn.interfaceName);
    origin = { ns, dir, vpn };
    await vpn.up();
    await listen(ns, vpn.address(), ORIGIN_TCP);
    await join('n1', 1);
    await join('n2', 2);
  });

  afterAll(async () => {
    try {
      await h?.cleanup();
    } finally {
      if (base) await rm(base, { recursive: true, force: true });
    }
    expect(await leftovers(PREFIX)).toEqual({ namespaces: [], links: [], pids: [], sockets: [] });
    expect(await wireguardGoPids(interfaces)).toEqual([]);
    for (const i of interfaces) expect(existsSync(path.join(WG_SOCKET_DIR, `${i}.sock`))).toBe(false);
  });

  it('brings origin and two nodes up and carries traffic through the tunnel to each', async () => {
    expect(['kernel', 'userspace']).toContain(origin.vpn.capabilities.implementation);
    for (const [name, node] of [...nodes]) {
      const addr = node.vpn.address();
      const key = await node.vpn.identity();
      const before = (await peerOf(key))!;
      expect(before.allowedIps).toEqual([`${addr}/32`]);
      expect(await reach(origin.ns, addr, NODE_TCP), `origin -> ${name} over the VPN`).toBe(true);
      // Traffic took the WireGuard interface: counters on both ends rose and a handshake happened.
      const after = (await peerOf(key))!;
      expect(after.rxBytes).toBeGreaterThan(before.rxBytes);
      expect(after.txBytes).toBeGreaterThan(before.txBytes);
      expect(after.lastHandshakeAgeSec).toBeDefined();
      expect(after.endpoint).toMatch(/^10\.201\.\d\.2:21002$/);
      const [toOrigin] = await node.vpn.peers();
      expect(toOrigin!.rxBytes).toBeGreaterThan(0);
      // The VPN addresses are routed only via the wg interfaces, never via the veth link.
      expect(await ok(origin.ns, 'ip', ['route', 'get', addr])).toContain(`dev ${origin.vpn.interfaceName}`);
      expect(await ok(node.ns, 'ip', ['route', 'get', origin.vpn.address()])).toContain(`dev ${node.vpn.interfaceName}`);
      expect(await ok(node.ns, 'ip', ['route', 'show', 'dev', node.veth!])).not.toMatch(/10\.77\./);
      expect(await reach(node.ns, origin.vpn.address(), ORIGIN_TCP), `${name} -> origin over the VPN`).toBe(true);
    }
  });

  it('adds a third node live while a TCP transfer to node 2 runs, without interrupting it', async () => {
    const n2 = nodes.get('n2')!;
    const n2Key = await n2.vpn.identity();
    const FIRST = 4 * 1024 * 1024;
    const sink: Spawned = h.spawn(n2.ns, process.execPath, [fixture('tcp-sink.mjs'), n2.vpn.address(), '21010', String(FIRST)]);
    await waitFor('sink listening', () => sink.output().includes('LISTENING'));
    const source: Spawned = h.spawn(origin.ns, process.execPath, [fixture('tcp-source.mjs'), n2.vpn.address(), '21010', String(FIRST), '1000'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    await waitFor('first half received by node 2', () => sink.output().includes('HALF'), 60_000);
    const before = (await rawPeer(n2Key))!;
    expect(before.latestHandshake).toBeGreaterThan(0);

    const n3 = await join('n3', 3);
    expect(await reach(origin.ns, n3.vpn.address(), NODE_TCP)).toBe(true);
    expect(await reach(n3.ns, origin.vpn.address(), ORIGIN_TCP)).toBe(true);
    expect(new Set((await origin.vpn.peers()).map((p) => p.allowedIps[0])).size).toBe(3);

    // Node 2's session was not touched: same peer entry, counters only grew, handshake not reset.
    const after = (await rawPeer(n2Key))!;
    expect(after.latestHandshake).toBeGreaterThanOrEqual(before.latestHandshake);
    expect(after.rxBytes).toBeGreaterThanOrEqual(before.rxBytes);
    expect(after.txBytes).toBeGreaterThan(before.txBytes);
    expect(after.endpoint).toBe(before.endpoint);
    expect(source.child.exitCode).toBeNull(); // still streaming while node 3 joined

    source.child.stdin!.end('go\n');
    expect(await source.exited).toBe(0);
    expect(await sink.exited).toBe(0);
    const sent = JSON.parse(source.output().trim().split('\n').pop()!) as { bytes: number; sha256: string; go: boolean };
    const got = JSON.parse(sink.output().trim().split('\n').pop()!) as { bytes: number; sha256: string };
    expect(sent.go).toBe(true);
    expect(sent.bytes).toBeGreaterThan(2 * FIRST);
    expect(got).toEqual({ bytes: sent.bytes, sha256: sent.sha256 });
  });

  it('removes a node live: its traffic is refused, the others keep working', async () => {
    const n1 = nodes.get('n1')!;
    const n1Key = await n1.vpn.identity();
    expect(await reach(n1.ns, origin.vpn.address(), ORIGIN_TCP)).toBe(true);

    expect(await origin.vpn.removePeer(n1Key)).toBe(true);
    expect((await origin.vpn.peers()).map((p) => p.publicKey)).not.toContain(n1Key);
    expect(origin.vpn.allocations().map((a) => a.name)).not.toContain('n1');

    expect(await reach(origin.ns, n1.vpn.address(), NODE_TCP)).toBe(false);
    expect(await reach(n1.ns, origin.vpn.address(), ORIGIN_TCP)).toBe(false);
    for (const name of ['n2', 'n3']) {
      const node = nodes.get(name)!;
      expect(await reach(origin.ns, node.vpn.address(), NODE_TCP), `origin -> ${name}`).toBe(true);
      expect(await reach(node.ns, origin.vpn.address(), ORIGIN_TCP), `${name} -> origin`).toBe(true);
    }
  });

  it('goes down cleanly: interfaces gone, no wireguard-go left', async () => {
    const all = [origin, ...nodes.values()];
    for (const side of all) await side.vpn.down();
    for (const side of all) {
      expect((await h.exec(side.ns, 'ip', ['link', 'show', 'dev', side.vpn.interfaceName])).code).not.toBe(0);
      await side.vpn.down(); // safe twice
    }
    expect(await wireguardGoPids(interfaces)).toEqual([]);
    // The bundle the origin handed out decodes to the node's address (sanity of the artefact path).
    expect(decodeJoinBundle(await origin.vpn.joinBundle({ name: 'n2', publicKey: await nodes.get('n2')!.vpn.identity(), ...secrets })).node.address).toBe(
      nodes.get('n2')!.vpn.address(),
    );
  });
});
