// Lookups on MaxMind's own test databases against the JSON they were built from.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { locatorContract } from '@haven/core/testing';
import { GeoLocator, openDatabase, walkNetworks } from '@haven/plugin-geo';
import { expectedRecord, geoipDir, loadSourceJson, pickSpread, type JsonNetwork } from './helpers.js';

const CITY_DBS = ['GeoIP2-City-Test', 'GeoLite2-City-Test'] as const;

/** Addresses to try in a network: its first address, its last, and one in the middle. */
function addressesIn(n: JsonNetwork): string[] {
  if (n.version === 4) {
    const base = n.first.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    const size = 2 ** (32 - n.prefix);
    const fmt = (v: number) => [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
    return [...new Set([fmt(base), fmt(base + Math.floor(size / 2)), fmt(base + size - 1)])];
  }
  return [n.first];
}

for (const name of CITY_DBS) {
  describe(`${name}.mmdb against ${name}.json`, async () => {
    const json = loadSourceJson(name);
    const db = await openDatabase(path.join(geoipDir, `${name}.mmdb`));
    const locator = new GeoLocator({ databases: [db] });
    // A spread of networks with a location, IPv4 and IPv6 both, picked from the JSON itself.
    const withLocation = json.filter((n) => n.record.location?.latitude !== undefined);
    const sample = [...pickSpread(withLocation.filter((n) => n.version === 4), 12), ...pickSpread(withLocation.filter((n) => n.version === 6), 20)];

    it('the sample holds at least 20 networks, both families', () => {
      expect(sample.length).toBeGreaterThanOrEqual(20);
      expect(sample.some((n) => n.version === 4)).toBe(true);
      expect(sample.filter((n) => n.version === 6).length).toBeGreaterThanOrEqual(10);
    });

    it('answers each sampled address with the most specific network of the JSON', () => {
      let checked = 0;
      for (const n of sample) {
        for (const ip of addressesIn(n)) {
          const want = expectedRecord(json, ip)!;
          const rec = want.record;
          const got = locator.locate(ip);
          expect(got, `${ip} in ${n.raw}`).toBeDefined();
          expect(got!.lat, ip).toBeCloseTo(rec.location.latitude, 4);
          expect(got!.lon, ip).toBeCloseTo(rec.location.longitude, 4);
          expect(got!.country, ip).toBe(rec.country?.iso_code ?? rec.registered_country?.iso_code);
          expect(got!.city, ip).toBe(rec.city?.names?.en);
          expect(got!.accuracyKm, ip).toBe(rec.location.accuracy_radius);
          expect(got!.source).toBe('geoip2');
          checked++;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(20);
    });

    it('answers IPv4 the same in its IPv4-mapped IPv6 form', () => {
      for (const n of sample.filter((s) => s.version === 4)) {
        expect(locator.locate(`::ffff:${n.first}`)).toEqual(locator.locate(n.first));
      }
    });

    it('a walk of the whole tree finds only networks of the JSON and reads every record', () => {
      const report = walkNetworks(db, {
        onNetwork: (w) => {
          const first = w.network.split('/')[0]!;
          const src = expectedRecord(json, first);
          expect(src, `${w.network} is not in the JSON`).toBeDefined();
        },
      });
      expect(report.complete).toBe(true);
      expect(report.failed).toBe(0);
      expect(report.structural).toBe(0);
      expect(report.networks).toBeGreaterThanOrEqual(json.length - 5);
      // ::ffff:0:0/96 and 2002::/16 alias the IPv4 subtree; the walk sees them once.
      expect(report.revisits).toBeGreaterThan(0);
    });

    it('reports the database for status output', () => {
      const d = locator.describe();
      expect(d.source).toContain(name.replace('-Test', ''));
      expect(d.buildDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      if (name.startsWith('GeoLite2')) expect(d.attribution).toMatch(/GeoLite2 data created by MaxMind/);
    });
  });
}

describe('GeoIP2-Country-Test.mmdb (no coordinates in the records)', () => {
  it("answers the country's centre with the country code", async () => {
    const db = await openDatabase(path.join(geoipDir, 'GeoIP2-Country-Test.mmdb'));
    const locator = new GeoLocator({ databases: [db] });
    const r = walkNetworks(db, { maxNetworks: 50 });
    expect(r.failed).toBe(0);
    const loc = locator.locate('81.2.69.160');
    expect(loc?.country).toBe('GB');
    expect(loc?.city).toBeUndefined();
    expect(loc?.lat).toBeGreaterThan(49);
    expect(loc?.lat).toBeLessThan(61);
  });
});

locatorContract('plugin-geo on GeoIP2-City-Test.mmdb', async () => {
  const json = loadSourceJson('GeoIP2-City-Test');
  const db = await openDatabase(path.join(geoipDir, 'GeoIP2-City-Test.mmdb'));
  const known = pickSpread(json.filter((n) => n.record.location?.latitude !== undefined), 24).map((n) => {
    const rec = expectedRecord(json, n.first)!.record;
    return { ip: n.first, country: rec.country?.iso_code ?? rec.registered_country?.iso_code, lat: rec.location.latitude, lon: rec.location.longitude };
  });
  return { locator: new GeoLocator({ databases: [db] }), known };
});
