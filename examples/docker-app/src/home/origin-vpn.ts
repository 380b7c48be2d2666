import { definePlugin, originExposure, type NodeEntry, type OriginConfig, type Vpn } from '@haven/core';
import { wireguard, wireguardOptionsSchema, type WireGuardOptionsInput } from '@haven/plugin-wireguard';

/** What the origin's VPN can do beyond core's `Vpn`: addresses for new nodes, and coming up on demand. */
export interface OriginVpn extends Vpn {
  readonly isUp: boolean;
  allocate(name: string, publicKey?: string): Promise<{ address: string }>;
  up(): Promise<void>;
  /** Run `fn` each time the interface comes up (e.g. listeners on the VPN address). */
  onUp(fn: () => Promise<void>): void;
  /** The config peers are read from (the running one, after live edits); default: the one at setup. */
  configFrom(fn: () => OriginConfig): void;
}

/** PersistentKeepalive of a private origin towards each node, seconds (holds NAT/CGNAT mappings open). */
export const DIAL_OUT_KEEPALIVE_SEC = 25;

/**
 * A private origin dials out: each node's peer gets the node's WireGuard endpoint (its entry's
 * `endpoint`, else `<host of its rtsp URL>:<listenPort>`, as nodes listen on the origin's port) and a
 * PersistentKeepalive, so the origin reaches nodes from behind NAT/CGNAT and nodes never need to reach
 * it first. A public origin leaves peers as they are (nodes dial it).
 */
export function dialOutPeer<P extends { publicKey: string; name?: string; endpoint?: string; persistentKeepaliveSec?: number }>(
  peer: P,
  config: Pick<OriginConfig, 'exposure' | 'nodes'>,
  listenPort: number,
): P {
  if (originExposure(config) !== 'private') return peer;
  const entry: NodeEntry | undefined = config.nodes.find((n) => n.publicKey === peer.publicKey) ?? config.nodes.find((n) => n.name === peer.name);
  let endpoint = peer.endpoint ?? entry?.endpoint;
  if (!endpoint && entry) {
    const host = new URL(entry.rtsp.replace(/^rtsp:/, 'http:')).hostname;
    endpoint = `${host}:${listenPort}`;
  }
  return { ...peer, ...(endpoint ? { endpoint } : {}), persistentKeepaliveSec: peer.persistentKeepaliveSec ?? DIAL_OUT_KEEPALIVE_SEC };
}

export function isOriginVpn(vpn: Vpn | undefined): vpn is OriginVpn {
  return !!vpn && typeof (vpn as Partial<OriginVpn>).allocate === 'function' && typeof (vpn as Partial<OriginVpn>).onUp === 'function';
}

/**
 * WireGuard on the origin, brought up when there is a node to talk to: at start when the config has
 * nodes, else with the first peer, live (`haven node add`, or a node written into haven.yaml while
 * the origin runs). An origin with no nodes runs without a VPN (and without the privileges one
 * needs), as `haven init` + `haven start` do on a fresh machine.
 */
export function originWireguard(options: WireGuardOptionsInput = {}) {
  const inner = wireguard(options);
  return definePlugin({
    name: inner.name,
    schema: wireguardOptionsSchema,
    options,
    async setup(ctx) {
      const inst = await inner.setup(ctx);
      const vpn = inst.vpn as Vpn & { readonly isUp: boolean };
      const listeners: Array<() => Promise<void>> = [];
      let started = false;
      let current = () => ctx.config as OriginConfig;
      const listenPort = (vpn as Vpn & { listenPort?: number }).listenPort ?? 51820;
      const up = vpn.up.bind(vpn);
      const addPeer = vpn.addPeer.bind(vpn);
      Object.assign(vpn, {
        onUp: (fn: () => Promise<void>) => void listeners.push(fn),
        configFrom: (fn: () => OriginConfig) => {
          current = fn;
        },
        async up() {
          const was = vpn.isUp;
          await up();
          if (!was) for (const fn of listeners) await fn();
        },
        // A peer needs the tunnel: the first one brings it up.
        async addPeer(peer: Parameters<Vpn['addPeer']>[0]) {
          await addPeer(dialOutPeer(peer, current(), listenPort));
          if (!vpn.isUp && started) await vpn.up();
        },
      });
      const hasPeers = () => (ctx.config as OriginConfig).nodes.some((n) => !!n.publicKey);
      return {
        ...inst,
        async start() {
          // With nodes: the plugin adds them and brings the tunnel up (through the patched up()).
          if (hasPeers()) await inst.start?.();
          started = true;
        },
        async stop() {
          started = false;
          await inst.stop?.();
        },
      };
    },
  });
}
