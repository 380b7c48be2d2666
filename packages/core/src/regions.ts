import type { GeoPoint } from './geo.js';

export interface Region extends GeoPoint {
  /** `eu-central`, `us-east`, or an upper-case ISO 3166-1 alpha-2 code. */
  name: string;
  label: string;
}

// Placeholder table: the full cloud-style and ISO country table is added with the geo work.
const REGIONS: Region[] = [
  { name: 'eu-central', label: 'Frankfurt', lat: 50.11, lon: 8.68 },
  { name: 'us-east', label: 'Virginia', lat: 38.9, lon: -77.04 },
];

const BY_NAME = new Map(REGIONS.map((r) => [r.name.toLowerCase(), r]));

/** Look up a region by name (case-insensitive). */
export function resolveRegion(name: string): Region | undefined {
  return BY_NAME.get(name.trim().toLowerCase());
}

export function listRegions(): readonly Region[] {
  return REGIONS;
}
