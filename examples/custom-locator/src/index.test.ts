import { locatorContract, pluginContract } from '@haven/core/testing';
import { describe, expect, it } from 'vitest';
import { createCsvLocator, csvLocator, parseCsv } from './index.js';

const CSV = `# network, place, country, city
203.0.113.0/24, 35.68:139.69, JP, Tokyo
198.51.100.0/24, eu-central, DE
198.51.100.128/25, 48.85:2.35, FR, Paris
2001:db8::/32, us-east, US
`;

locatorContract('csv-locator (example third-party plugin)', () => ({
  locator: createCsvLocator(CSV),
  known: [
    { ip: '203.0.113.7', country: 'JP', lat: 35.68, lon: 139.69 },
    { ip: '198.51.100.200', country: 'FR' },
    { ip: '2001:db8::1', country: 'US' },
  ],
}));

pluginContract('csv-locator', () => ({
  plugin: csvLocator(),
  valid: { csv: CSV },
  invalid: [{ options: { file: '' }, path: 'file' }],
}));

describe('csv-locator', () => {
  it('prefers the most specific network', () => {
    const l = createCsvLocator(CSV);
    expect(l.locate('198.51.100.5')?.country).toBe('DE');
    expect(l.locate('198.51.100.129')?.city).toBe('Paris');
  });

  it('reports every bad line with its number', () => {
    expect(() => parseCsv('300.1.1.1/8, eu-central\n10.0.0.0/8, nowhere\n10.0.0.0/99, JP\n', 'places.csv')).toThrow(
      /3 bad line\(s\):\n {2}places\.csv:1: .*\n {2}places\.csv:2: "nowhere".*\n {2}places\.csv:3:/,
    );
  });

  it('rejects bad options in the factory with the plugin name', () => {
    expect(() => csvLocator({ file: '' })).toThrow(/\[haven\/csv-locator\] file:/);
  });
});
