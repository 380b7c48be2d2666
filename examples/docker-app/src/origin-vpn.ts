import { definePlugin, type OriginConfig, type Vpn } from '@haven/core';
import { wireguard, wireguardOptionsSchema, type WireGuardOptionsInput } from '@haven/plugin-wireguard';

/** What the origin's VPN can do beyond core's `Vpn`: addresses for new nodes, and coming up on demand. */
export interface OriginVpn extends Vpn {
  readonly isUp: boolean;
  allocate(name: string, publicKey?: string): Promise<{ address: string }>;
  up(): Promise<void>;
  /** Run `fn` each time the interface comes up (e.g. listeners on the VPN address). */
  onUp(fn: () => Promise<void>): void;
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
      const up = vpn.up.bind(vpn);
      const addPeer = vpn.addPeer.bind(vpn);
      Object.assign(vpn, {
        onUp: (fn: () => Promise<void>) => void listeners.push(fn),
        async up() {
          const was = vpn.isUp;
          await up();
          if (!was) for (const fn of listeners) await fn();
        },
        // A peer needs the tunnel: the first one brings it up.
        async addPeer(peer: Parameters<Vpn['addPeer']>[0]) {
          await addPeer(peer);
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
