import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Vpn, VpnPeer } from './contracts.js';
import { validateConfig, type LoadedConfig } from './config/load.js';
import { createHaven, type Haven } from './haven.js';
import { createLogger } from './logger.js';
import { definePlugin } from './plugin.js';
import { freePort as port } from './testing/free-port.js';
import { nodesFromConfig } from './routing/nodes.js';
import { NodeRegistry } from './routing/registry.js';
import type { CoreServicesFactory } from './services.js';

/** The registry alone (the doors are `@haven/gateway`'s): what a live node change updates. */
const registryOnly: CoreServicesFactory = ({ config, events }) => ({ list: [], registry: new NodeRegistry(config.role === 'origin' ? nodesFromConfig(config) : [], events) });

const KEY_A = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const KEY_B = 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=';


function fakeVpn(calls: string[], refuse?: (p: VpnPeer) => boolean): Vpn {
  const peers = new Map<string, VpnPeer>();
  return {
    name: 'fake',
    capabilities: { implementation: 'memory', livePeers: true },
    identity: async () => KEY_A,
    address: () => '10.77.0.1',
    up: async () => {},
    down: async () => {},
    addPeer: async (p) => {
      if (refuse?.(p)) throw new Error(`cannot resolve endpoint ${p.endpoint}`);
      calls.push(`add:${p.name}:${p.allowedIps.join(',')}`);
      peers.set(p.publicKey, p);
    },
    removePeer: async (k) => {
      calls.push(`remove:${k.slice(0, 4)}`);
      return peers.delete(k);
    },
    peers: async () => [...peers.values()].map((p) => ({ ...p, rxBytes: 0, txBytes: 0 })),
  };
}

let dir: string;
let haven: Haven | undefined;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'haven-live-'));
});
afterEach(async () => {
  await haven?.stop();
  haven = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('applyConfig (live node changes)', () => {
  it('adds and removes nodes and their VPN peers without touching the others', async () => {
    const calls: string[] = [];
    const base = {
      role: 'origin',
      stateDir: dir,
      region: 'us-east',
      public: { host: '127.0.0.1', bind: '127.0.0.1', rtspPort: await port(), hlsPort: await port() },
      nodes: [{ name: 'alice', region: 'eu-central', rtsp: 'rtsp://127.0.0.2:8554', publicKey: KEY_A, vpnAddress: '10.77.0.2' }],
    };
    const vpnPlugin = definePlugin({ name: 'vpn', schema: z.strictObject({}), setup: () => ({ vpn: fakeVpn(calls) }) });
    haven = createHaven(base as never, [vpnPlugin], { logger: createLogger({ level: 'silent' }), services: registryOnly });
    await haven.start();
    expect(haven.services.registry?.list().map((n) => n.name)).toEqual(['origin', 'alice']);

    const with2 = { ...base, nodes: [...base.nodes, { name: 'bob', region: 'us-east', rtsp: 'rtsp://127.0.0.3:8554', publicKey: KEY_B, vpnAddress: '10.77.0.3' }] };
    const loaded = (c: unknown): LoadedConfig => ({ ...validateConfig(c, [vpnPlugin]), file: 'x', stateDir: dir });
    const applied: unknown[] = [];
    haven.events.on('config:applied', (e) => applied.push(e));
    const r1 = await haven.applyConfig(loaded(with2));
    expect(r1.added).toEqual(['bob']);
    expect(calls).toEqual(['add:bob:10.77.0.3/32']);
    expect(haven.services.registry?.list().map((n) => n.name)).toEqual(['origin', 'alice', 'bob']);

    const r2 = await haven.applyConfig(loaded({ ...base, nodes: [with2.nodes[1]] }));
    expect(r2.removed).toEqual(['alice']);
    expect(calls).toEqual(['add:bob:10.77.0.3/32', `remove:${KEY_A.slice(0, 4)}`]);
    expect(applied).toHaveLength(2);
    expect(haven.config.role === 'origin' && haven.config.nodes.map((n) => n.name)).toEqual(['bob']);
  });

  it('an exposure edit applies live (not a restart key) and is logged; unset goes back to the default', async () => {
    const base = { role: 'origin', stateDir: dir, exposure: 'public', public: { host: '127.0.0.1', bind: '127.0.0.1', rtspPort: await port(), hlsPort: await port() } };
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    haven = createHaven(base as never, [], { logger });
    await haven.start();
    const loaded = (c: unknown): LoadedConfig => ({ ...validateConfig(c, []), file: 'x', stateDir: dir });
    const r = await haven.applyConfig(loaded({ ...base, exposure: 'private' }));
    expect(r.needsRestart).toEqual([]);
    expect(haven.config.role === 'origin' && haven.config.exposure).toBe('private');
    expect(lines.join('')).toMatch(/this origin is private now \(exposure: private in the config\).*until the next `haven start`/);
    const { exposure: _, ...unset } = base;
    await haven.applyConfig(loaded(unset));
    expect(haven.config.role === 'origin' && haven.config.exposure).toBeUndefined();
    expect(lines.join('')).toMatch(/this origin is public now \(exposure unset and the Haven has no node yet\)/);
  });

  it('refuses a role change and keeps the running config', async () => {
    const base = { role: 'origin', stateDir: dir, public: { host: '127.0.0.1', bind: '127.0.0.1', rtspPort: await port(), hlsPort: await port() } };
    haven = createHaven(base as never, [], { logger: createLogger({ level: 'silent' }), services: registryOnly });
    await haven.start();
    const node = { ...validateConfig({ role: 'node', name: 'n1', region: 'eu-central' }), file: 'x', stateDir: dir };
    await expect(haven.applyConfig(node)).rejects.toThrow(/role changed from origin to node/);
    expect(haven.config.role).toBe('origin');
  });

  it('a change the VPN refuses halfway is undone: the peers and the running config stay exactly as they were', async () => {
    const calls: string[] = [];
    const KEY_C = 'aFq2VfT0bVjTFI1u1T2mTm9yL0n0eWBqcS1P8rQ3yUw=';
    const vpn = fakeVpn(calls, (p) => p.endpoint === 'unresolvable.invalid:51820');
    const base = {
      role: 'origin',
      stateDir: dir,
      region: 'us-east',
      public: { host: '127.0.0.1', bind: '127.0.0.1', rtspPort: await port(), hlsPort: await port() },
      nodes: [
        { name: 'alice', region: 'eu-central', rtsp: 'rtsp://127.0.0.2:8554', publicKey: KEY_A, vpnAddress: '10.77.0.2' },
        { name: 'bob', region: 'us-east', rtsp: 'rtsp://127.0.0.3:8554', publicKey: KEY_B, vpnAddress: '10.77.0.3' },
      ],
    };
    const vpnPlugin = definePlugin({ name: 'vpn', schema: z.strictObject({}), setup: () => ({ vpn }) });
    haven = createHaven(base as never, [vpnPlugin], { logger: createLogger({ level: 'silent' }), services: registryOnly });
    await haven.start();
    await vpn.addPeer({ publicKey: KEY_A, name: 'alice', allowedIps: ['10.77.0.2/32'] });
    await vpn.addPeer({ publicKey: KEY_B, name: 'bob', allowedIps: ['10.77.0.3/32'] });
    const sorted = async () => JSON.stringify((await vpn.peers()).sort((a, b) => a.publicKey.localeCompare(b.publicKey)));
    const peersBefore = await sorted();
    const loaded = (c: unknown): LoadedConfig => ({ ...validateConfig(c, [vpnPlugin]), file: 'x', stateDir: dir });
    // alice removed, bob moved, carol added with an endpoint the VPN refuses: the last step fails.
    const next = {
      ...base,
      nodes: [
        { ...base.nodes[1], vpnAddress: '10.77.0.9' },
        { name: 'carol', region: 'us-east', rtsp: 'rtsp://127.0.0.4:8554', publicKey: KEY_C, vpnAddress: '10.77.0.4', endpoint: 'unresolvable.invalid:51820' },
      ],
    };
    await expect(haven.applyConfig(loaded(next))).rejects.toThrow(/VPN refused the change for node "carol".*nothing was changed/);
    expect(await sorted()).toBe(peersBefore);
    expect(haven.config.role === 'origin' && haven.config.nodes.map((n) => `${n.name}:${n.vpnAddress}`)).toEqual(['alice:10.77.0.2', 'bob:10.77.0.3']);
    expect(haven.services.registry?.list().map((n) => n.name)).toEqual(['origin', 'alice', 'bob']);
  });

  it('an invalid endpoint is refused by validation, before anything is touched', () => {
    const entry = { name: 'dave', region: 'us-east', rtsp: 'rtsp://127.0.0.5:8554', publicKey: KEY_B };
    for (const endpoint of ['nope', '1.2.3.4', '1.2.3.4:99999', 'a b:51820', '999.1.1.1:51820', '[zz::1]:51820']) {
      expect(() => validateConfig({ role: 'origin', nodes: [{ ...entry, endpoint }] }), endpoint).toThrow(/endpoint.*expected host:port where WireGuard reaches the node/s);
    }
    for (const endpoint of ['198.51.100.7:51820', '[2001:db8::7]:51820', 'node.example.net:51820']) {
      expect(() => validateConfig({ role: 'origin', nodes: [{ ...entry, endpoint }] }), endpoint).not.toThrow();
    }
  });
});
