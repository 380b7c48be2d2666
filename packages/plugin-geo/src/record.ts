import { isValidPoint, resolveRegion, type ViewerLocation } from '@haven/core';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

function countryCode(v: unknown): string | undefined {
  const s = str(v);
  return s && /^[A-Za-z]{2}$/.test(s) ? s.toUpperCase() : undefined;
}

function name(names: unknown, languages: readonly string[]): string | undefined {
  if (!isObj(names)) return undefined;
  const en = str(names.en);
  if (en) return en;
  for (const l of languages) {
    const n = str(names[l]);
    if (n) return n;
  }
  return undefined;
}

/**
 * A database record as a `ViewerLocation`. Understands the MaxMind GeoIP2/GeoLite2 City layout
 * (`location.latitude`, `country.iso_code`, `city.names.en`) and the flat DB-IP / ip-location-db
 * layout (`latitude`, `longitude`, `country_code`, `city`). A record with a country but no usable
 * coordinates (a Country database, or a City record without a location) answers the country's centre.
 * Anything else (a record of another shape, a corrupt value) answers undefined.
 */
export function recordToLocation(record: unknown, source: string, languages: readonly string[] = []): ViewerLocation | undefined {
  if (!isObj(record)) return undefined;
  let lat: unknown;
  let lon: unknown;
  let country: string | undefined;
  let city: string | undefined;
  let accuracy: unknown;
  const loc = record.location;
  if (isObj(loc) || isObj(record.country) || isObj(record.city)) {
    if (isObj(loc)) {
      lat = loc.latitude;
      lon = loc.longitude;
      accuracy = loc.accuracy_radius;
    }
    country = countryCode(isObj(record.country) ? record.country.iso_code : undefined) ??
      countryCode(isObj(record.registered_country) ? record.registered_country.iso_code : undefined);
    city = isObj(record.city) ? name(record.city.names, languages) : undefined;
  } else {
    lat = record.latitude;
    lon = record.longitude;
    country = countryCode(record.country_code);
    city = str(record.city);
  }
  const out: ViewerLocation = { lat: lat as number, lon: lon as number, source };
  if (!isValidPoint(out) || (lat === 0 && lon === 0)) {
    const centre = country ? resolveRegion(country) : undefined;
    if (!centre || centre.kind !== 'country') return undefined;
    out.lat = centre.lat;
    out.lon = centre.lon;
    city = undefined;
    accuracy = undefined;
  }
  if (country) out.country = country;
  if (city) out.city = city;
  if (typeof accuracy === 'number' && accuracy > 0 && Number.isFinite(accuracy)) out.accuracyKm = accuracy;
  return Object.freeze(out);
}
