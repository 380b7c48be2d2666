import { isIP } from 'node:net';
import { HavenError, resolveRegion, type ViewerLocation } from '@haven/core';

export interface CsvRow {
  network: string;
  prefix: number;
  family: 4 | 6;
  location: ViewerLocation;
}

/**
 * Parse `cidr,place[,country][,city]` lines. `place` is a region name (`eu-central`, `JP`) or
 * `lat:lon`. Blank lines and `#` comments are skipped. Every bad line is reported with its number.
 */
export function parseCsv(text: string, source = 'csv'): CsvRow[] {
  const rows: CsvRow[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const [cidr = '', place = '', country, city] = line.split(',').map((s) => s.trim());
    const [network = '', bits] = cidr.split('/');
    const family = isIP(network);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      problems.push(`${source}:${i + 1}: "${cidr}" is not a CIDR such as 203.0.113.0/24 or 2001:db8::/32`);
      return;
    }
    let lat: number | undefined;
    let lon: number | undefined;
    const coords = /^(-?\d+(?:\.\d+)?):(-?\d+(?:\.\d+)?)$/.exec(place);
    if (coords) {
      lat = Number(coords[1]);
      lon = Number(coords[2]);
    } else {
      const region = resolveRegion(place);
      if (region) ({ lat, lon } = region);
    }
    if (lat === undefined || lon === undefined || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      problems.push(`${source}:${i + 1}: "${place}" is neither a known region nor lat:lon`);
      return;
    }
    const location: ViewerLocation = { lat, lon, source: 'csv' };
    if (country) location.country = country.toUpperCase();
    if (city) location.city = city;
    rows.push({ network, prefix, family: family as 4 | 6, location });
  });
  if (problems.length > 0) {
    throw new HavenError(`${problems.length} bad line(s):\n  ${problems.join('\n  ')}`, { code: 'CSV_INVALID', plugin: 'csv-locator' });
  }
  // Most specific networks first, so a /24 inside a /16 wins.
  return rows.sort((a, b) => b.prefix - a.prefix);
}
