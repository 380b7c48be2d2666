import { resolveRegion, type ViewerLocation } from '@haven/core';
import { geoError } from './errors.js';
import { cidrContains, parseCidr, type ParsedCidr, type ParsedIp } from './ip.js';

/** One override: a network and where its addresses are (coordinates, or a named region). */
export interface OverrideEntry {
  /** `192.168.0.0/16`, `fd00::/8`, or a single address. */
  cidr: string;
  lat?: number;
  lon?: number;
  /** ISO 3166-1 alpha-2 code reported with the location. */
  country?: string;
  city?: string;
  /** A built-in region (`eu-central`, `DE`...) instead of `lat`/`lon`. */
  region?: string;
}

interface Compiled {
  cidr: ParsedCidr;
  location: ViewerLocation;
}

/** Overrides, most specific network first: checked before any database. */
export interface OverrideTable {
  readonly size: number;
  match(ip: ParsedIp): ViewerLocation | undefined;
}

/** Why an entry is invalid, or undefined when it is fine (used by the options schema too). */
export function overrideProblem(e: OverrideEntry): { path: string; message: string } | undefined {
  const c = parseCidr(e.cidr);
  if ('error' in c) return { path: 'cidr', message: c.error };
  const hasPoint = e.lat !== undefined || e.lon !== undefined;
  if (e.region !== undefined) {
    if (hasPoint) return { path: 'region', message: 'give region or lat/lon, not both' };
    if (!resolveRegion(e.region)) return { path: 'region', message: `unknown region "${e.region}": use a name such as eu-central or an ISO country code` };
  } else if (e.lat === undefined || e.lon === undefined) {
    return { path: e.lat === undefined ? 'lat' : 'lon', message: 'an override needs lat and lon, or a region' };
  }
  return undefined;
}

export function compileOverrides(entries: readonly OverrideEntry[] = []): OverrideTable {
  const compiled: Compiled[] = entries.map((e, i) => {
    const problem = overrideProblem(e);
    if (problem) throw geoError('GEO_OPTIONS', `overrides.${i}.${problem.path}: ${problem.message}`);
    const cidr = parseCidr(e.cidr) as ParsedCidr;
    const region = e.region !== undefined ? resolveRegion(e.region) : undefined;
    const loc: ViewerLocation = { lat: region ? region.lat : e.lat!, lon: region ? region.lon : e.lon!, source: 'override' };
    const country = e.country ?? (region?.kind === 'country' ? region.name : undefined);
    if (country) loc.country = country.toUpperCase();
    if (e.city) loc.city = e.city;
    return { cidr, location: Object.freeze(loc) };
  });
  // Most specific first, so the first hit is the longest-prefix match.
  compiled.sort((a, b) => b.cidr.prefix - a.cidr.prefix);
  const v4 = compiled.filter((c) => c.cidr.version === 4);
  const v6 = compiled.filter((c) => c.cidr.version === 6);
  return {
    size: compiled.length,
    match(ip) {
      const list = ip.version === 4 ? v4 : v6;
      for (const c of list) if (cidrContains(c.cidr, ip)) return c.location;
      return undefined;
    },
  };
}
