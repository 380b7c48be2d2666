import { definePlugin, type HavenError, type OriginConfig } from '@haven/core';
import { decodeJoinBundle, encodeShareCode, type JoinBundle } from './codes.js';
import { loadOrCreateKeyPair } from './keys.js';
import { PLUGIN } from './errors.js';
import { handshakeProbe, handshakeSignal } from './health.js';
import { checkOptions, wireguardOptionsSchema, type WireGuardOptionsInput } from './options.js';
import { createWireGuardVpn, type WireGuardVpn } from './vpn.js';

/**
 * The WireGuard plugin: provides core's `Vpn`. On the origin, every node of the config file that
 * has a `publicKey` becomes a peer with a stable /32; on a node, the origin from the join bundle.
 */
export function wireguard(options: WireGuardOptionsInput = {}) {
  checkOptions(options);
  return definePlugin({
    name: PLUGIN,
    schema: wireguardOptionsSchema,
    options,
    async setup(ctx) {
      const o = ctx.options;
      const vpn: WireGuardVpn = await createWireGuardVpn({
        role: ctx.role,
        stateDir: ctx.stateDir,
        subnet: o.subnet,
        listenPort: o.listenPort,
        mtu: o.mtu,
        keepaliveSec: o.keepaliveSec,
        implementation: o.implementation,
        ...(o.interfaceName ? { interfaceName: o.interfaceName } : {}),
        ...(o.netns ? { netns: o.netns } : {}),
        ...(o.address ? { address: o.address } : {}),
        ...(o.origin ? { origin: o.origin } : {}),
        ...(o.tools ? { tools: o.tools } : {}),
        endpoint: o.endpoint ?? (ctx.role === 'origin' ? `${ctx.config.public.host}:${o.listenPort}` : undefined),
        logger: ctx.logger,
        onError: (error: HavenError) => ctx.events.emit('error', { error, source: PLUGIN }),
      });
      const signal = handshakeSignal(vpn);
      return {
        vpn,
        // On the origin a node's WireGuard session is part of its health: no session, no stream.
        ...(ctx.role === 'origin' ? { probes: [handshakeProbe(vpn)] } : {}),
        async start() {
          if (ctx.role === 'origin') {
            for (const node of (ctx.config as OriginConfig).nodes) {
              if (!node.publicKey) continue;
              await vpn.addPeer({
                publicKey: node.publicKey,
                name: node.name,
                allowedIps: node.vpnAddress ? [`${node.vpnAddress}/32`] : [],
                ...(node.endpoint ? { endpoint: node.endpoint } : {}),
              });
            }
          }
          await vpn.up();
        },
        async stop() {
          await vpn.down();
        },
        async status() {
          const peers = vpn.isUp ? await signal.all().catch(() => undefined) : undefined;
          return {
            interface: vpn.interfaceName,
            implementation: vpn.capabilities.implementation,
            up: vpn.isUp,
            address: vpn.address(),
            subnet: vpn.subnet.cidr,
            listenPort: vpn.listenPort,
            publicKey: await vpn.identity(),
            peers: peers ? [...peers.values()].map((p) => ({ publicKey: p.publicKey, up: p.up, ageSec: p.ageSec })) : [],
          };
        },
      };
    },
  });
}

/** The node-side options a join bundle carries (the bundle's passwords are not part of them). */
export function nodeOptionsFromBundle(bundle: string | JoinBundle): Pick<WireGuardOptionsInput, 'subnet' | 'address' | 'origin'> {
  const b = typeof bundle === 'string' ? decodeJoinBundle(bundle) : bundle;
  return { subnet: b.subnet, address: b.node.address, origin: { publicKey: b.origin.publicKey, endpoint: b.origin.endpoint, address: b.origin.address } };
}

/**
 * A node's share code, before it has joined: loads (or creates) the node's key pair in
 * `<stateDir>/wireguard/` and encodes its public key with the region and optional name.
 */
export async function makeShareCode(input: { stateDir: string; region: string; name?: string; rtsp?: string; hls?: string }): Promise<string> {
  const { publicKey } = await loadOrCreateKeyPair(input.stateDir);
  return encodeShareCode({
    publicKey,
    region: input.region,
    ...(input.name ? { name: input.name } : {}),
    ...(input.rtsp ? { rtsp: input.rtsp } : {}),
    ...(input.hls ? { hls: input.hls } : {}),
  });
}
