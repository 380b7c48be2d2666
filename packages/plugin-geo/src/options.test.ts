import { describe, expect, it } from 'vitest';
import { pluginContract } from '@haven/core/testing';
import { makeRedactor, safeCause } from './download.js';
import { parseGeoipOptions } from './options.js';
import { geoip } from './plugin.js';

const KEY = 'SuperSecret_LicenseKey_123';

pluginContract('geo', () => ({
  plugin: geoip(),
  valid: { database: 'dbip', cacheSize: 5000, overrides: [{ cidr: '10.0.0.0/8', region: 'eu-central' }], maxmind: { licenseKey: KEY } },
  invalid: [
    { options: { cacheSize: -1 }, path: 'cacheSize' },
    { options: { overrides: [{ cidr: '10.0.0.1/8', lat: 1, lon: 1 }] }, path: 'overrides.0.cidr' },
    { options: { overrides: [{ cidr: '10.0.0.0/8' }] }, path: 'overrides.0.lat' },
    { options: { maxmind: {} }, path: 'maxmind.licenseKey' },
    { options: { maxmind: { licenseKey: KEY, checkEveryHours: 0 } }, path: 'maxmind.checkEveryHours' },
    { options: { maxmind: { licenseKey: KEY, edition: '../etc' } }, path: 'maxmind.edition' },
  ],
}));

describe('geoip options', () => {
  it('applies the documented defaults', () => {
    const o = parseGeoipOptions({ maxmind: { licenseKey: KEY } });
    expect(o).toMatchObject({ database: 'dbip', overrides: [], cacheSize: 10_000, recordCacheSize: 10_000 });
    expect(o.maxmind).toMatchObject({ edition: 'GeoLite2-City', checkEveryHours: 168, timeoutMs: 300_000 });
  });

  it('takes the licence key from MAXMIND_LICENSE_KEY when the config has none (haven.yaml is not private)', () => {
    const before = process.env.MAXMIND_LICENSE_KEY;
    process.env.MAXMIND_LICENSE_KEY = KEY;
    try {
      expect(parseGeoipOptions({ maxmind: {} }).maxmind?.licenseKey).toBe(KEY);
      expect(parseGeoipOptions({ maxmind: { licenseKey: 'fromConfig' } }).maxmind?.licenseKey).toBe('fromConfig');
    } finally {
      if (before === undefined) delete process.env.MAXMIND_LICENSE_KEY;
      else process.env.MAXMIND_LICENSE_KEY = before;
    }
    expect(() => parseGeoipOptions({ maxmind: {} })).toThrow(/MAXMIND_LICENSE_KEY/);
  });

  it('the factory checks options once, naming the plugin and the option', () => {
    expect(() => geoip({ cacheSize: -5 })).toThrowError(/^\[haven\/geo\] cacheSize: .*got -5/);
    expect(() => geoip({ overrides: [{ cidr: 'lan', lat: 1, lon: 2 }] })).toThrowError(/overrides\.0\.cidr: "lan" is not an IPv4 or IPv6 network/);
  });

  it('never echoes the licence key in an option error', () => {
    const run = (o: unknown) => {
      try {
        parseGeoipOptions(o);
        return '';
      } catch (err) {
        return String((err as Error).message);
      }
    };
    expect(run({ maxmind: { licenseKey: KEY, bogus: 1 } })).not.toContain(KEY);
    expect(run({ maxmind: { licenseKey: KEY, url: 'ftp://x' } })).not.toContain(KEY);
    expect(parseGeoipOptions({ maxmind: { licenseKey: 123456789 } }).maxmind?.licenseKey).toBe('123456789');
  });

  it('the redactor masks the key, its URL-encoded form and any license_key parameter', () => {
    const redact = makeRedactor(['a+b/c=d']);
    expect(redact('https://x/?license_key=a%2Bb%2Fc%3Dd&suffix=tar.gz')).toBe('https://x/?license_key=[redacted]&suffix=tar.gz');
    expect(redact('key a+b/c=d in text')).toBe('key [redacted] in text');
    expect(makeRedactor([])('edition_id=X&license_key=other&y=1')).toBe('edition_id=X&license_key=[redacted]&y=1');
    const cause = safeCause(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(`connect to ?license_key=${KEY}`), { code: 'ECONNREFUSED' }) }), makeRedactor([KEY]));
    expect(cause.message).not.toContain(KEY);
    expect((cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});
