import { describe, expect, it } from 'vitest';
import { recordToLocation } from './record.js';

describe('recordToLocation', () => {
  it('reads the MaxMind City layout', () => {
    const rec = {
      city: { names: { en: 'London', de: 'London' } },
      country: { iso_code: 'GB' },
      location: { accuracy_radius: 100, latitude: 51.5142, longitude: -0.0931 },
      registered_country: { iso_code: 'US' },
    };
    expect(recordToLocation(rec, 'geoip2')).toEqual({ lat: 51.5142, lon: -0.0931, country: 'GB', city: 'London', accuracyKm: 100, source: 'geoip2' });
    const zhOnly = { city: { names: { zh: '东京' } }, location: { latitude: 35.68, longitude: 139.75 } };
    expect(recordToLocation(zhOnly, 'geoip2', ['en', 'zh'])?.city).toBe('东京');
  });

  it('reads the flat DB-IP / ip-location-db layout', () => {
    const rec = { city: 'Mountain View', country_code: 'US', latitude: 37.422, longitude: -122.085, postcode: '', state1: 'California' };
    expect(recordToLocation(rec, 'dbip')).toEqual({ lat: 37.422, lon: -122.085, country: 'US', city: 'Mountain View', source: 'dbip' });
  });

  it("falls back to the country's centre when a record has no usable coordinates", () => {
    const loc = recordToLocation({ country: { iso_code: 'DE' } }, 'geoip2');
    expect(loc).toMatchObject({ country: 'DE', source: 'geoip2' });
    expect(loc?.lat).toBeCloseTo(51.17, 1);
    expect(recordToLocation({ country_code: 'FR', latitude: 0, longitude: 0 }, 'dbip')?.lat).toBeCloseTo(46.23, 1);
  });

  it('answers undefined for records of another shape or with broken values', () => {
    for (const r of [null, undefined, 'x', 42, [], { ip: 'test' }, { a: { a: { a: {} } } }, { latitude: 999, longitude: 5 },
      { latitude: '51', longitude: '0' }, { location: { latitude: Number.NaN, longitude: 1 } }, { country: { iso_code: 'ZZ' } }]) {
      expect(recordToLocation(r, 'x'), JSON.stringify(r)).toBeUndefined();
    }
  });
});
