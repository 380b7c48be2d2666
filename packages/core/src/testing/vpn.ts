import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vpn, VpnPeer } from '../contracts.js';

export interface VpnFixture {
  vpn: Vpn;
  /** Two peers that can be added (their keys are valid for the implementation). */
  peers: [VpnPeer, VpnPeer];
  close?: () => Promise<void>;
}

export function vpnContract(name: string, factory: () => Promise<VpnFixture> | VpnFixture): void {
  describe(`Vpn contract: ${name}`, () => {
    let fx: VpnFixture;
    beforeAll(async () => {
      fx = await factory();
      await fx.vpn.up();
    });
    afterAll(async () => {
      await fx?.vpn.down();
      await fx?.vpn.down(); // safe twice
      await fx?.close?.();
    });

    it('has an identity and an address', async () => {
      const id = await fx.vpn.identity();
      expect(id).toMatch(/^[A-Za-z0-9+/]{42,43}=*$/);
      expect(fx.vpn.address()).toMatch(/\d+\.\d+\.\d+\.\d+|:/);
    });

    it('adds a peer without dropping another, and updates a known key in place', async () => {
      const [a, b] = fx.peers;
      await fx.vpn.addPeer(a);
      await fx.vpn.addPeer(b);
      let keys = (await fx.vpn.peers()).map((p) => p.publicKey);
      expect(keys).toEqual(expect.arrayContaining([a.publicKey, b.publicKey]));
      await fx.vpn.addPeer({ ...a, persistentKeepaliveSec: 15 });
      keys = (await fx.vpn.peers()).map((p) => p.publicKey);
      expect(keys.filter((k) => k === a.publicKey)).toHaveLength(1);
      expect(keys).toContain(b.publicKey);
    });

    it('reports counters for each peer', async () => {
      for (const p of await fx.vpn.peers()) {
        expect(p.rxBytes).toBeGreaterThanOrEqual(0);
        expect(p.txBytes).toBeGreaterThanOrEqual(0);
        expect(Array.isArray(p.allowedIps)).toBe(true);
      }
    });

    it('removes one peer and keeps the other; removing twice answers false', async () => {
      const [a, b] = fx.peers;
      expect(await fx.vpn.removePeer(a.publicKey)).toBe(true);
      const keys = (await fx.vpn.peers()).map((p) => p.publicKey);
      expect(keys).not.toContain(a.publicKey);
      expect(keys).toContain(b.publicKey);
      expect(await fx.vpn.removePeer(a.publicKey)).toBe(false);
    });
  });
}
