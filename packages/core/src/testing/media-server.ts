import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HavenSecrets, MediaServer, SecretName, StreamSpec } from '../contracts.js';

/** What a client sees when it tries: the credential passed (`accepted`) or the server said no. */
export type AccessResult = 'accepted' | 'refused';

/**
 * Real clients against the implementation under test, driven by the shared suite. Every
 * implementation provides these: the suite's security checks must pass or fail for each of them.
 */
export interface MediaServerAccess {
  /** The secrets the server currently holds (the Haven's view). */
  secrets(): HavenSecrets;
  /**
   * Publish `stream` with this stream key (undefined: no credential), the way OBS would; `accepted`
   * once the server takes the media, `refused` when it will not. A relay node refuses every publish.
   */
  publish(stream: string, key: string | undefined): Promise<AccessResult>;
  /**
   * Read `stream` as the viewer user with this password (undefined: no credential). `accepted` when the
   * credential passed, even if the stream has no publisher yet (e.g. RTSP 404 after auth).
   */
  read(stream: string, password: string | undefined): Promise<AccessResult>;
  /** Rotate one secret the way the Haven does (store, then the plugin's `onSecrets`); resolves with the new secrets. */
  rotate(name: SecretName): Promise<HavenSecrets>;
}

export interface MediaServerFixture {
  server: MediaServer;
  streams: StreamSpec[];
  access: MediaServerAccess;
  /** False for a server that takes no publisher (a relay node): every publish must be refused. */
  acceptsPublishers: boolean;
  close?: () => Promise<void>;
}

export function mediaServerContract(name: string, factory: () => Promise<MediaServerFixture> | MediaServerFixture): void {
  describe(`MediaServer contract: ${name}`, () => {
    let fx: MediaServerFixture;
    beforeAll(async () => {
      fx = await factory();
    }, 60_000);
    afterAll(async () => {
      await fx?.server.close();
      await fx?.server.close(); // safe twice
      await fx?.close?.();
    });
    const stream = () => fx.streams[0]!.name;

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

    it('refuses a read without the viewer password, or with a wrong one or another secret; accepts the viewer password', async () => {
      const s = fx.access.secrets();
      expect(await fx.access.read(stream(), undefined)).toBe('refused');
      expect(await fx.access.read(stream(), `${s.viewerPassword}x`)).toBe('refused');
      expect(await fx.access.read(stream(), s.streamKey)).toBe('refused');
      expect(await fx.access.read(stream(), s.viewerPassword)).toBe('accepted');
    }, 60_000);

    it('refuses a publish without the stream key, or with a wrong one or the viewer password', async () => {
      const s = fx.access.secrets();
      expect(await fx.access.publish(stream(), undefined)).toBe('refused');
      expect(await fx.access.publish(stream(), `${s.streamKey}x`)).toBe('refused');
      expect(await fx.access.publish(stream(), s.viewerPassword)).toBe('refused');
    }, 90_000);

    it('accepts a publish with the stream key only where publishers are taken', async () => {
      const s = fx.access.secrets();
      expect(await fx.access.publish(stream(), s.streamKey)).toBe(fx.acceptsPublishers ? 'accepted' : 'refused');
    }, 60_000);

    it('a rotation takes effect for the next session: the old viewer password and stream key are refused, the new ones work', async () => {
      const old = fx.access.secrets();
      const rotatedViewer = await fx.access.rotate('viewerPassword');
      expect(rotatedViewer.viewerPassword).not.toBe(old.viewerPassword);
      expect(await fx.access.read(stream(), old.viewerPassword)).toBe('refused');
      expect(await fx.access.read(stream(), rotatedViewer.viewerPassword)).toBe('accepted');
      const rotatedKey = await fx.access.rotate('streamKey');
      expect(rotatedKey.streamKey).not.toBe(old.streamKey);
      expect(await fx.access.publish(stream(), old.streamKey)).toBe('refused');
      if (fx.acceptsPublishers) expect(await fx.access.publish(stream(), rotatedKey.streamKey)).toBe('accepted');
    }, 120_000);
  });
}
