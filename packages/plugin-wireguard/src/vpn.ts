import { createHash } from 'node:crypto';
import type { HavenError, Logger, Vpn, VpnCapabilities, VpnPeer, VpnPeerStatus } from '@haven/core';
import { AddressPlan, type Allocation } from './address-plan.js';
import { encodeJoinBundle, encodeShareCode, type JoinBundle } from './codes.js';
import { WgDriver, type Implementation } from './driver.js';
import { handshakeAge } from './dump.js';
import { wgError } from './errors.js';
import { DEFAULT_TOOLS, Exec, type ToolPaths } from './exec.js';
import { loadOrCreateKeyPair, parseKey, type StoredKeyPair } from './keys.js';
import { parseEndpoint, renderNodeConfig, renderOriginConfig } from './render.js';
import { contains, firstHost, parseHostAddress, parseSubnet, type Subnet } from './subnet.js';

export interface WireGuardVpnOptions {
  role: 'origin' | 'node';
  /** The Haven's state directory; keys and allocations go to `<stateDir>/wireguard/`. */
  stateDir: string;
  /** VPN subnet. Default `10.77.0.0/24`. */
  subnet?: string;
  /** UDP port WireGuard listens on. Default 51820. */
  listenPort?: number;
  /** Interface name (max 15 chars). Default `hv` + 10 hex chars of this side's public key hash. */
  interfaceName?: string;
  /** Origin: the public `host:port` nodes dial; written into join bundles. */
  endpoint?: string;
  /** Default 1420. */
  mtu?: number;
  /** Run every `ip`/`wg`/`wireguard-go` inside this network namespace. */
  netns?: string;
  /** Node: PersistentKeepalive towards the origin, seconds (0 = off). Default 25. */
  keepaliveSec?: number;
  /** This side's VPN address. Origin default: the subnet's first host. Node: required (from the join bundle). */
  address?: string;
  /** Node: the origin to join (from the join bundle). */
  origin?: { publicKey: string; endpoint: string; address?: string };
  /** Default `auto`. */
  implementation?: 'auto' | Implementation;
  tools?: Partial<ToolPaths>;
  logger?: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** Background failures (wireguard-go exited). */
  onError?: (error: HavenError) => void;
}

interface Desired {
  peer: VpnPeer;
  /** Routes added for this peer (node role: the origin /32). */
  routes: string[];
}

/** Name for a peer added without one: stable, from its key. */
function nameFromKey(publicKey: string): string {
  return `peer-${createHash('sha256').update(publicKey).digest('hex').slice(0, 8)}`;
}

/** Default interface name: unique per key, since wireguard-go's sockets are shared by all namespaces. */
export function defaultInterfaceName(publicKey: string): string {
  return `hv${createHash('sha256').update(publicKey).digest('hex').slice(0, 10)}`;
}

/** The `Vpn` contract over WireGuard. Create with `createWireGuardVpn`. */
export class WireGuardVpn implements Vpn {
  readonly name = 'wireguard';
  readonly capabilities: VpnCapabilities;
  readonly role: 'origin' | 'node';
  readonly subnet: Subnet;
  readonly listenPort: number;
  readonly mtu: number;
  readonly keepaliveSec: number;
  readonly endpoint: string | undefined;
  readonly driver: WgDriver;
  readonly #keys: StoredKeyPair;
  readonly #address: string;
  readonly #plan: AddressPlan | undefined;
  readonly #log: WireGuardVpnOptions['logger'];
  #desired = new Map<string, Desired>();
  #up = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: WireGuardVpnOptions, keys: StoredKeyPair, subnet: Subnet, address: string, plan: AddressPlan | undefined) {
    this.role = options.role;
    this.subnet = subnet;
    this.#keys = keys;
    this.#address = address;
    this.#plan = plan;
    this.#log = options.logger;
    this.listenPort = options.listenPort ?? 51820;
    this.mtu = options.mtu ?? 1420;
    this.keepaliveSec = options.keepaliveSec ?? 25;
    this.endpoint = options.endpoint === undefined ? undefined : parseEndpoint(options.endpoint, 'endpoint');
    const exec = new Exec({ ...DEFAULT_TOOLS, ...options.tools }, options.netns);
    this.driver = new WgDriver({
      interfaceName: options.interfaceName ?? defaultInterfaceName(keys.publicKey),
      exec,
      implementation: options.implementation ?? 'auto',
      onUnexpectedExit: (error) => {
        this.#up = false;
        this.#log?.warn({ interface: this.driver.name }, error.message);
        options.onError?.(error as HavenError);
      },
    });
    const driver = this.driver;
    const wanted = options.implementation ?? 'auto';
    this.capabilities = {
      // `auto` until up() has found out which one this machine has.
      get implementation() {
        return driver.implementation ?? wanted;
      },
      livePeers: true,
    };
  }

  get interfaceName(): string {
    return this.driver.name;
  }

  get isUp(): boolean {
    return this.#up;
  }

  async identity(): Promise<string> {
    return this.#keys.publicKey;
  }

  address(): string {
    return this.#address;
  }

  /** Current allocations (origin). */
  allocations(): Allocation[] {
    return this.#plan?.list() ?? [];
  }

  up(): Promise<void> {
    return this.#serial(async () => {
      if (this.#up) return;
      const impl = await this.driver.create();
      try {
        await this.driver.configure(this.#keys.file, this.listenPort);
        await this.driver.addAddress(`${this.#address}/${this.role === 'origin' ? this.subnet.prefix : 32}`);
        await this.driver.linkUp(this.mtu);
        for (const d of this.#desired.values()) await this.#apply(d);
      } catch (err) {
        await this.driver.destroy().catch(() => {});
        throw err;
      }
      this.#up = true;
      this.#log?.info({ interface: this.driver.name, implementation: impl, address: this.#address, peers: this.#desired.size }, 'wireguard up');
    });
  }

  /** Give a node its address without adding it as a peer (origin). */
  async allocate(name: string, publicKey?: string, address?: string): Promise<Allocation> {
    const plan = this.#requirePlan('allocating addresses');
    const req: { name: string; publicKey?: string; address?: string } = { name };
    if (publicKey !== undefined) req.publicKey = this.#checkKey(publicKey, `public key of node "${name}"`);
    if (address !== undefined) req.address = address;
    return this.#serial(() => plan.assign(req));
  }

  addPeer(peer: VpnPeer): Promise<void> {
    return this.#serial(async () => {
      const label = peer.name ? `node "${peer.name}"` : 'peer';
      const publicKey = this.#checkKey(peer.publicKey, `public key of ${label}`);
      const known = this.#desired.get(publicKey);
      let normalized: VpnPeer;
      let routes: string[] = [];
      if (this.#plan) {
        const name = peer.name ?? known?.peer.name ?? this.#plan.byKey(publicKey)?.name ?? nameFromKey(publicKey);
        if (peer.allowedIps.length > 1) {
          throw wgError('ADDRESS_OUTSIDE_SUBNET', `node "${name}": a node gets exactly one /32 inside ${this.subnet.cidr}, got ${peer.allowedIps.join(', ')}`);
        }
        const requested = peer.allowedIps[0];
        const req: { name: string; publicKey: string; address?: string } = { name, publicKey };
        if (requested !== undefined) req.address = requested;
        const alloc = await this.#plan.assign(req);
        normalized = { publicKey, name, allowedIps: [`${alloc.address}/32`] };
      } else {
        if (peer.allowedIps.length === 0) throw wgError('OPTIONS_INVALID', `${label}: allowedIps is empty; a node's peer is the origin with its /32`);
        normalized = { publicKey, allowedIps: peer.allowedIps.map((c) => checkCidr(c, label)) };
        if (peer.name) normalized.name = peer.name;
        routes = normalized.allowedIps.filter((c) => c !== `${this.#address}/32`);
      }
      if (peer.endpoint) normalized.endpoint = parseEndpoint(peer.endpoint, `${label} endpoint`);
      const keepalive = peer.persistentKeepaliveSec ?? (this.role === 'node' ? this.keepaliveSec : undefined);
      if (keepalive) normalized.persistentKeepaliveSec = keepalive;
      const next: Desired = { peer: normalized, routes };
      if (this.#up) {
        for (const r of known?.routes ?? []) if (!routes.includes(r)) await this.driver.deleteRoute(r);
        await this.#apply(next);
      }
      this.#desired.set(publicKey, next);
      this.#log?.info({ interface: this.driver.name, peer: publicKey, name: normalized.name, allowedIps: normalized.allowedIps }, 'peer set');
    });
  }

  removePeer(publicKey: string): Promise<boolean> {
    return this.#serial(async () => {
      const known = this.#desired.get(publicKey);
      const released = (await this.#plan?.release(publicKey)) ?? false;
      if (!known) return released;
      if (this.#up) {
        await this.driver.removePeer(publicKey);
        for (const r of known.routes) await this.driver.deleteRoute(r);
      }
      this.#desired.delete(publicKey);
      this.#log?.info({ interface: this.driver.name, peer: publicKey, name: known.peer.name }, 'peer removed');
      return true;
    });
  }

  async peers(): Promise<VpnPeerStatus[]> {
    if (!this.#up) return [...this.#desired.values()].map((d) => ({ ...d.peer, rxBytes: 0, txBytes: 0 }));
    const dump = await this.driver.dump();
    return dump.peers.map((p) => {
      const d = this.#desired.get(p.publicKey)?.peer;
      const s: VpnPeerStatus = { publicKey: p.publicKey, allowedIps: p.allowedIps, rxBytes: p.rxBytes, txBytes: p.txBytes };
      const age = handshakeAge(p.latestHandshake);
      if (age !== undefined) s.lastHandshakeAgeSec = age;
      if (p.endpoint) s.endpoint = p.endpoint;
      if (p.persistentKeepalive) s.persistentKeepaliveSec = p.persistentKeepalive;
      if (d?.name) s.name = d.name;
      return s;
    });
  }

  down(): Promise<void> {
    return this.#serial(async () => {
      if (!this.#up && !this.driver.active) return;
      await this.driver.destroy();
      if (this.#up) this.#log?.info({ interface: this.driver.name }, 'wireguard down');
      this.#up = false;
    });
  }

  /** This node's share code (public key, region, optional name) for the origin. */
  async shareCode(region: string, name?: string): Promise<string> {
    return encodeShareCode({ publicKey: this.#keys.publicKey, region, ...(name ? { name } : {}) });
  }

  /**
   * A node's join bundle (origin). Allocates the node's address if it has none. The result holds
   * passwords: print it with JOIN_BUNDLE_WARNING and never log it.
   */
  async joinBundle(input: { name: string; publicKey: string } & Pick<JoinBundle, 'relay' | 'viewer' | 'streams'>): Promise<string> {
    if (!this.endpoint) {
      throw wgError('OPTIONS_INVALID', 'endpoint: needed to make join bundles; set it to the public host:port nodes dial, e.g. 198.51.100.7:51820');
    }
    const alloc = await this.allocate(input.name, input.publicKey);
    return encodeJoinBundle({
      origin: { endpoint: this.endpoint, publicKey: this.#keys.publicKey, address: this.#address },
      node: { name: input.name, address: alloc.address },
      subnet: this.subnet.cidr,
      relay: input.relay,
      viewer: input.viewer,
      streams: input.streams,
    });
  }

  /** This side as a wg-quick file. Holds the private key: write it 0600, never log it. */
  renderConfig(): string {
    if (this.role === 'origin') {
      return renderOriginConfig({
        privateKey: this.#keys.privateKey,
        address: this.#address,
        prefix: this.subnet.prefix,
        listenPort: this.listenPort,
        mtu: this.mtu,
        nodes: [...this.#desired.values()].map((d) => ({ publicKey: d.peer.publicKey, address: d.peer.allowedIps[0]!.split('/')[0]!, ...(d.peer.name ? { name: d.peer.name } : {}) })),
      });
    }
    const origin = [...this.#desired.values()][0]?.peer;
    if (!origin?.endpoint) throw wgError('NOT_JOINED', 'this node has not joined an origin yet: paste the join bundle first');
    return renderNodeConfig({
      privateKey: this.#keys.privateKey,
      address: this.#address,
      mtu: this.mtu,
      listenPort: this.listenPort,
      origin: { publicKey: origin.publicKey, endpoint: origin.endpoint, address: origin.allowedIps[0]!.split('/')[0]! },
      keepaliveSec: this.keepaliveSec,
    });
  }

  async #apply(d: Desired): Promise<void> {
    await this.driver.setPeer(d.peer);
    for (const r of d.routes) await this.driver.addRoute(r);
  }

  #checkKey(key: string, what: string): string {
    const k = parseKey(key, what);
    if (k === this.#keys.publicKey) throw wgError('DUPLICATE_KEY', `${what} is this side's own public key; each node needs its own key pair`);
    return k;
  }

  #requirePlan(what: string): AddressPlan {
    if (!this.#plan) throw wgError('OPTIONS_INVALID', `${what} is the origin's job; this side runs as a node`);
    return this.#plan;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.catch(() => {}).then(fn);
    this.#queue = next;
    return next;
  }
}

function checkCidr(c: string, label: string): string {
  const [ip, bits = '32'] = c.split('/');
  const n = Number(bits);
  parseHostAddress(ip ?? '', `${label} allowedIps`);
  if (!/^\d{1,2}$/.test(bits) || n > 32) throw wgError('OPTIONS_INVALID', `${label}: "${c}" is not an IPv4 CIDR`);
  return `${ip}/${n}`;
}

/** Load (or create) keys and the address plan, then build the VPN. Brings nothing up. */
export async function createWireGuardVpn(options: WireGuardVpnOptions): Promise<WireGuardVpn> {
  const subnet = parseSubnet(options.subnet ?? '10.77.0.0/24');
  const keys = await loadOrCreateKeyPair(options.stateDir);
  if (options.role === 'origin') {
    const address = parseHostAddress(options.address ?? firstHost(subnet), 'address');
    if (!contains(subnet, address)) throw wgError('ADDRESS_OUTSIDE_SUBNET', `address: ${address} is outside the VPN subnet ${subnet.cidr}`);
    const plan = await AddressPlan.open(options.stateDir, subnet, address);
    return new WireGuardVpn(options, keys, subnet, address, plan);
  }
  if (!options.address || !options.origin) {
    throw wgError('NOT_JOINED', 'a node needs its VPN address and the origin (public key, endpoint): paste the join bundle from the origin (nodeOptionsFromBundle)');
  }
  const address = parseHostAddress(options.address, 'address');
  if (!contains(subnet, address)) throw wgError('ADDRESS_OUTSIDE_SUBNET', `address: ${address} is outside the VPN subnet ${subnet.cidr}`);
  const originAddress = parseHostAddress(options.origin.address ?? firstHost(subnet), 'origin.address');
  const vpn = new WireGuardVpn(options, keys, subnet, address, undefined);
  await vpn.addPeer({
    publicKey: options.origin.publicKey,
    name: 'origin',
    allowedIps: [`${originAddress}/32`],
    endpoint: parseEndpoint(options.origin.endpoint, 'origin.endpoint'),
    persistentKeepaliveSec: options.keepaliveSec ?? 25,
  });
  return vpn;
}
