import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJoinBundle, decodeShareCode } from './codes.js';
import { generateKeyPair } from './keys.js';
import { makeShareCode, nodeOptionsFromBundle } from './plugin.js';
import { createWireGuardVpn, defaultInterfaceName } from './vpn.js';

// Nothing here brings an interface up: peers added while down are only recorded.
describe('WireGuardVpn (down)', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const tmp = async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'hvwg-vpn-'));
    dirs.push(d);
    return d;
  };
  const secrets = { relay: { url: 'rtsp://10.77.0.1:8555', user: 'relay', password: 'RelayPass1234567890' }, viewer: { user: 'viewer', password: 'ViewerPass123456' }, streams: ['live'] };

  it('origin: allocates /32s, refuses duplicates and outside addresses, keeps addresses across restarts', async () => {
    const dir = await tmp();
    const vpn = await createWireGuardVpn({ role: 'origin', stateDir: dir, endpoint: '198.51.100.7:51820' });
    expect(vpn.address()).toBe('10.77.0.1');
    expect(vpn.interfaceName).toBe(defaultInterfaceName(await vpn.identity()));
    expect(vpn.interfaceName.length).toBeLessThanOrEqual(15);
    const a = generateKeyPair().publicKey;
    const b = generateKeyPair().publicKey;
    await vpn.addPeer({ publicKey: a, name: 'alice', allowedIps: [] });
    await vpn.addPeer({ publicKey: b, name: 'bob', allowedIps: ['10.77.0.77/32'] });
    const peers = await vpn.peers();
    expect(peers.map((p) => p.allowedIps[0])).toContain('10.77.0.77/32');
    const aliceIp = peers.find((p) => p.name === 'alice')!.allowedIps[0];
    expect(aliceIp).toMatch(/^10\.77\.0\.\d+\/32$/);
    await expect(vpn.addPeer({ publicKey: a, name: 'mallory', allowedIps: [] })).rejects.toMatchObject({ code: 'DUPLICATE_KEY' });
    await expect(vpn.addPeer({ publicKey: generateKeyPair().publicKey, name: 'carol', allowedIps: ['10.1.2.3/32'] })).rejects.toMatchObject({ code: 'ADDRESS_OUTSIDE_SUBNET' });
    await expect(vpn.addPeer({ publicKey: await vpn.identity(), name: 'me', allowedIps: [] })).rejects.toMatchObject({ code: 'DUPLICATE_KEY' });
    await expect(vpn.addPeer({ publicKey: 'truncated', name: 'dave', allowedIps: [] })).rejects.toMatchObject({ code: 'KEY_INVALID' });
    // Re-adding a known key updates it and keeps its address.
    await vpn.addPeer({ publicKey: a, allowedIps: [], endpoint: '203.0.113.9:51820' });
    expect((await vpn.peers()).find((p) => p.publicKey === a)).toMatchObject({ name: 'alice', allowedIps: [aliceIp], endpoint: '203.0.113.9:51820' });

    const again = await createWireGuardVpn({ role: 'origin', stateDir: dir });
    expect(await again.identity()).toBe(await vpn.identity());
    expect(again.allocations().find((x) => x.name === 'alice')?.address).toBe(aliceIp!.split('/')[0]);

    expect(await vpn.removePeer(b)).toBe(true);
    expect(await vpn.removePeer(b)).toBe(false);
    expect((await vpn.peers()).map((p) => p.publicKey)).toEqual([a]);
    await vpn.down(); // safe when never up
  });

  it('origin: makes join bundles and a wg-quick file; node: joins from the bundle', async () => {
    const originDir = await tmp();
    const nodeDir = await tmp();
    const origin = await createWireGuardVpn({ role: 'origin', stateDir: originDir, endpoint: '198.51.100.7:51820' });
    const share = decodeShareCode(await makeShareCode({ stateDir: nodeDir, region: 'eu-central', name: 'alice' }));
    expect(share).toMatchObject({ region: 'eu-central', name: 'alice' });
    const text = await origin.joinBundle({ name: 'alice', publicKey: share.publicKey, ...secrets });
    const bundle = decodeJoinBundle(text);
    expect(bundle.origin).toEqual({ endpoint: '198.51.100.7:51820', publicKey: await origin.identity(), address: '10.77.0.1' });
    expect(origin.allocations()[0]).toMatchObject({ name: 'alice', address: bundle.node.address });
    await origin.addPeer({ publicKey: share.publicKey, name: 'alice', allowedIps: [] });
    expect(origin.renderConfig()).toContain(`AllowedIPs = ${bundle.node.address}/32`);

    const node = await createWireGuardVpn({ role: 'node', stateDir: nodeDir, ...nodeOptionsFromBundle(text) });
    expect(node.address()).toBe(bundle.node.address);
    expect(await node.identity()).toBe(share.publicKey);
    const [originPeer] = await node.peers();
    expect(originPeer).toMatchObject({ publicKey: await origin.identity(), allowedIps: ['10.77.0.1/32'], endpoint: '198.51.100.7:51820', persistentKeepaliveSec: 25 });
    expect(node.renderConfig()).toMatch(/PersistentKeepalive = 25/);
    await expect(node.allocate('x')).rejects.toMatchObject({ code: 'OPTIONS_INVALID' });
  });

  it('node: refuses to start without a join, or with an address outside the subnet', async () => {
    await expect(createWireGuardVpn({ role: 'node', stateDir: await tmp() })).rejects.toMatchObject({ code: 'NOT_JOINED' });
    await expect(
      createWireGuardVpn({ role: 'node', stateDir: await tmp(), address: '10.9.9.9', origin: { publicKey: generateKeyPair().publicKey, endpoint: '1.2.3.4:5' } }),
    ).rejects.toMatchObject({ code: 'ADDRESS_OUTSIDE_SUBNET' });
  });

  it('origin without endpoint cannot make bundles', async () => {
    const vpn = await createWireGuardVpn({ role: 'origin', stateDir: await tmp() });
    await expect(vpn.joinBundle({ name: 'a', publicKey: generateKeyPair().publicKey, ...secrets })).rejects.toThrow(/endpoint: needed to make join bundles/);
  });
});
