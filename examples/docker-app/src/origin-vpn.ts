import { definePlugin, type OriginConfig, type Vpn } from '@haven/core';
import { wireguard, wireguardOptionsSchema, type WireGuardOptionsInput } from '@haven/plugin-wireguard';

/** What the origin's VPN can do beyond core's `Vpn`: addresses for new nodes, and coming up on demand. */
export interface OriginVpn extends Vpn {
  readonly isUp: boolean;
  allocate(name: string, publicKey?: string): Promise<{ address: string }>;
  up(): Promise<void>;
}

export function isOriginVpn(vpn: Vpn | undefined): vpn is OriginVpn {
  return !!vpn && typeof (vpn as Partial<OriginVpn>).allocate === 'function' && typeof (vpn as Partial<OriginVpn>).up === 'function';
}

/**
 * WireGuard on the origin, brought up when there is a node to talk to: at start when the config has
 * nodes, else at the first `haven node add`, live. An origin with no nodes runs without a VPN (and
 * without the privileges one needs), as `haven init` + `haven start` do on a fresh machine.
 */
export function originWireguard(options: WireGuardOptionsInput = {}) {
  const inner = wireguard(options);
  return definePlugin({
    name: inner.name,
    schema: wireguardOptionsSchema,
    options,
    async setup(ctx) {
      const inst = await inner.setup(ctx);
      const hasPeers = () => (ctx.config as OriginConfig).nodes.some((n) => !!n.publicKey);
      return {
        ...inst,
        async start() {
          if (hasPeers()) await inst.start?.();
        },
      };
    },
  });
}
