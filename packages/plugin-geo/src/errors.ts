import { HavenError, type HavenErrorOptions } from '@haven/core';

/** Every error code the geo plugin raises, in one place. */
export const GeoErrorCodes = {
  /** Options given in code or in haven.yaml are invalid. */
  GEO_OPTIONS: 'GEO_OPTIONS',
  /** No database is available (DB-IP package not installed, file missing, no MaxMind copy yet). */
  GEO_DB_MISSING: 'GEO_DB_MISSING',
  /** A `.mmdb` file could not be read as a MaxMind DB (corrupt, truncated, gzip, wrong format). */
  GEO_DB_INVALID: 'GEO_DB_INVALID',
  /** A lookup hit a corrupt part of a database that loaded: the lookup answers `undefined`. */
  GEO_LOOKUP_FAILED: 'GEO_LOOKUP_FAILED',
  /** Downloading a MaxMind database failed (network, HTTP status, size limit, timeout). */
  GEO_UPDATE_DOWNLOAD: 'GEO_UPDATE_DOWNLOAD',
  /** The downloaded archive is not a readable tar.gz holding one `.mmdb`. */
  GEO_UPDATE_ARCHIVE: 'GEO_UPDATE_ARCHIVE',
  /** The downloaded database failed verification (unreadable metadata, not a City database). */
  GEO_UPDATE_VERIFY: 'GEO_UPDATE_VERIFY',
  /** The verified database could not be moved into the state directory. */
  GEO_UPDATE_SWAP: 'GEO_UPDATE_SWAP',
} as const;

export type GeoErrorCode = (typeof GeoErrorCodes)[keyof typeof GeoErrorCodes];

export const PLUGIN = 'geo';

export function geoError(code: GeoErrorCode, message: string, options: Omit<HavenErrorOptions, 'code' | 'plugin'> = {}): HavenError<GeoErrorCode> {
  return new HavenError(message, { ...options, code, plugin: PLUGIN });
}

/** A short, single-line reason from anything thrown (no stack). */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const msg = err.message.split('\n')[0] ?? '';
    return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
  }
  return String(err);
}
