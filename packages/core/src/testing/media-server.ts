import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaServer, StreamSpec } from '../contracts.js';

export interface MediaServerFixture {
  server: MediaServer;
  streams: StreamSpec[];
  close?: () => Promise<void>;
}

export function mediaServerContract(name: string, factory: () => Promise<MediaServerFixture> | MediaServerFixture): void {
  describe(`MediaServer contract: ${name}`, () => {
    let fx: MediaServerFixture;
    beforeAll(async () => {
      fx = await factory();
    });
    afterAll(async () => {
      await fx?.server.close();
      await fx?.server.close(); // safe twice
      await fx?.close?.();
    });

    it('declares capabilities and endpoints', () => {
      expect(fx.server.name.length).toBeGreaterThan(0);
      expect(typeof fx.server.capabilities.proxyProtocol).toBe('boolean');
      expect(typeof fx.server.capabilities.liveSecrets).toBe('boolean');
      expect(typeof fx.server.endpoints()).toBe('object');
    });

    it('applies streams idempotently', async () => {
      await fx.server.apply(fx.streams);
      await fx.server.apply(fx.streams);
    });

    it('reports stats for an applied stream that has no publisher', async () => {
      const s = fx.streams[0];
      expect(s).toBeDefined();
      const stats = await fx.server.stats(s!.name);
      expect(stats.name).toBe(s!.name);
      expect(stats.ready).toBe(false);
      expect(stats.readers).toBeGreaterThanOrEqual(0);
      expect(stats.bytesIn).toBeGreaterThanOrEqual(0);
    });

    it('answers false when kicking an unknown session', async () => {
      expect(await fx.server.kick('00000000-0000-4000-8000-000000000000')).toBe(false);
    });
  });
}
