import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator } from '../contracts.js';
import { isValidPoint } from '../geo.js';

export interface LocatorFixture {
  locator: Locator;
  /** Addresses the implementation knows, with what it should answer (coordinates within `toleranceKm`). */
  known: Array<{ ip: string; country?: string; lat?: number; lon?: number }>;
  close?: () => Promise<void>;
}

const ODD_INPUT = [
  '',
  ' ',
  'not an ip',
  '999.1.1.1',
  '1.2.3',
  '1.2.3.4.5',
  '::ffff:999.0.0.1',
  'fe80::1%eth0',
  '127.0.0.1',
  '::1',
  '10.1.2.3',
  '192.168.1.1',
  '169.254.1.1',
  '0.0.0.0',
  '::',
  'a'.repeat(10_000),
  '\u0000',
  '1.2.3.4\n',
];

export function locatorContract(name: string, factory: () => Promise<LocatorFixture> | LocatorFixture): void {
  describe(`Locator contract: ${name}`, () => {
    let fx: LocatorFixture;
    beforeAll(async () => {
      fx = await factory();
    });
    afterAll(async () => {
      await fx?.close?.();
      await fx?.locator.close?.();
    });

    it('has a name and capabilities', () => {
      expect(typeof fx.locator.name).toBe('string');
      expect(fx.locator.name.length).toBeGreaterThan(0);
      expect(typeof fx.locator.capabilities.ipv6).toBe('boolean');
      expect(typeof fx.locator.capabilities.updates).toBe('boolean');
    });

    it('locates the known addresses with valid coordinates', () => {
      expect(fx.known.length).toBeGreaterThan(0);
      for (const k of fx.known) {
        const loc = fx.locator.locate(k.ip);
        expect(loc, `locate(${k.ip})`).toBeDefined();
        expect(isValidPoint(loc), `coordinates of ${k.ip}`).toBe(true);
        if (k.country !== undefined) expect(loc?.country).toBe(k.country);
        if (k.lat !== undefined) expect(loc?.lat).toBeCloseTo(k.lat, 1);
        if (k.lon !== undefined) expect(loc?.lon).toBeCloseTo(k.lon, 1);
      }
    });

    it('answers the same for the IPv4-mapped IPv6 form of a known IPv4 address', () => {
      const v4 = fx.known.find((k) => /^\d+\.\d+\.\d+\.\d+$/.test(k.ip));
      if (!v4 || !fx.locator.capabilities.ipv6) return;
      expect(fx.locator.locate(`::ffff:${v4.ip}`)).toEqual(fx.locator.locate(v4.ip));
    });

    it('never throws on odd input, and answers undefined or a valid point', () => {
      for (const ip of ODD_INPUT) {
        let loc: unknown;
        expect(() => (loc = fx.locator.locate(ip)), JSON.stringify(ip.slice(0, 20))).not.toThrow();
        if (loc !== undefined) expect(isValidPoint(loc as never)).toBe(true);
      }
    });

    it('is deterministic for the same address', () => {
      for (const k of fx.known) expect(fx.locator.locate(k.ip)).toEqual(fx.locator.locate(k.ip));
    });
  });
}
