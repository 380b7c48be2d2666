import { describe, expect, it } from 'vitest';
import { resolveRegion } from '@haven/core';
import { parseIp } from './ip.js';
import { GeoLocator } from './locator.js';
import { compileOverrides } from './overrides.js';

describe('overrides', () => {
  const table = compileOverrides([
    { cidr: '192.168.0.0/16', region: 'eu-central' },
    { cidr: '192.168.7.0/24', lat: 48.85, lon: 2.35, country: 'fr', city: 'Paris' },
    { cidr: 'fd00::/8', region: 'JP' },
    { cidr: '203.0.113.9', lat: -33.87, lon: 151.21 },
  ]);

  it('answers the most specific network first, IPv4 and IPv6', () => {
    expect(table.match(parseIp('192.168.7.9')!)).toEqual({ lat: 48.85, lon: 2.35, country: 'FR', city: 'Paris', source: 'override' });
    const fra = resolveRegion('eu-central')!;
    expect(table.match(parseIp('192.168.1.1')!)).toEqual({ lat: fra.lat, lon: fra.lon, source: 'override' });
    expect(table.match(parseIp('::ffff:192.168.1.1')!)).toMatchObject({ lat: fra.lat });
    expect(table.match(parseIp('fd00::42')!)).toMatchObject({ country: 'JP', source: 'override' });
    expect(table.match(parseIp('203.0.113.9')!)).toMatchObject({ lat: -33.87 });
    expect(table.match(parseIp('203.0.113.10')!)).toBeUndefined();
  });

  it('is what the locator answers for private and documentation ranges (no database needed)', () => {
    const loc = new GeoLocator({ overrides: table });
    expect(loc.locate('192.168.7.200')?.city).toBe('Paris');
    expect(loc.locate('10.0.0.1')).toBeUndefined();
    expect(loc.stats()).toMatchObject({ overrideHits: 1, special: 1 });
    expect(loc.describe().source).toBe('overrides only (4)');
  });

  it('refuses entries without a place, with an unknown region, or with both', () => {
    expect(() => compileOverrides([{ cidr: '10.0.0.0/8' }])).toThrowError(/overrides\.0\.lat: an override needs lat and lon, or a region/);
    expect(() => compileOverrides([{ cidr: '10.0.0.0/8', region: 'mars' }])).toThrowError(/unknown region "mars"/);
    expect(() => compileOverrides([{ cidr: '10.0.0.0/8', region: 'DE', lat: 1, lon: 2 }])).toThrowError(/not both/);
    expect(() => compileOverrides([{ cidr: '10.0.0.1/8', lat: 1, lon: 2 }])).toThrowError(/host bits/);
  });
});
