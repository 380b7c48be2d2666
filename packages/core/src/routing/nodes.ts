import { originExposure, PRIVATE_GATEWAY_HOST } from './exposure.js';
import type { HavenNode } from '../contracts.js';
import type { NodeEntry, OriginConfig } from '../config/schema.js';
import { HavenError } from '../errors.js';
import { isValidPoint, type GeoPoint } from '../geo.js';
import { resolveRegion } from '../regions.js';
import { trimBase } from '../net/address.js';

/**
 * The point used for a node whose place is unknown (an origin configured without region or
 * lat/lon). The selector never ranks it by distance; it stays the fallback.
 */
export const UNKNOWN_PLACE: GeoPoint = Object.freeze({ lat: Number.NaN, lon: Number.NaN });

/** Coordinates of a place given as lat/lon or a region name; `UNKNOWN_PLACE` when neither is given. */
export function placeOf(place: { region?: string | undefined; lat?: number | undefined; lon?: number | undefined }, what: string): GeoPoint {
  if (place.lat !== undefined && place.lon !== undefined) return { lat: place.lat, lon: place.lon };
  if (place.region !== undefined) {
    const r = resolveRegion(place.region);
    if (!r) {
      throw new HavenError(`${what}: unknown region "${place.region}"; use a known region name or give lat/lon`, {
        code: 'REGION_UNKNOWN',
        details: { region: place.region },
      });
    }
    return { lat: r.lat, lon: r.lon };
  }
  return UNKNOWN_PLACE;
}

export function hasPlace(node: HavenNode): boolean {
  return isValidPoint(node.location);
}

function bracket(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * The origin as a node: it is reached through the gateway's own public address, or, private, on this
 * machine's loopback only (its public address is named nowhere).
 */
export function originNode(config: OriginConfig): HavenNode {
  const host = originExposure(config) === 'private' ? PRIVATE_GATEWAY_HOST : bracket(config.public.host);
  const node: HavenNode = {
    name: config.name,
    origin: true,
    location: placeOf(config, 'origin'),
    rtspUrl: `rtsp://${host}:${config.public.rtspPort}`,
    hlsUrl: `http://${host}:${config.public.hlsPort}`,
    capacity: config.capacity,
  };
  if (config.region !== undefined) node.region = config.region;
  return node;
}

/** A relay node from its config entry. */
export function nodeFromEntry(entry: NodeEntry): HavenNode {
  const node: HavenNode = {
    name: entry.name,
    location: placeOf(entry, `node "${entry.name}"`),
    rtspUrl: trimBase(entry.rtsp),
    capacity: entry.capacity,
  };
  if (entry.region !== undefined) node.region = entry.region;
  if (entry.hls !== undefined) node.hlsUrl = trimBase(entry.hls);
  if (entry.publicKey !== undefined) node.publicKey = entry.publicKey;
  if (entry.vpnAddress !== undefined) node.vpnAddress = entry.vpnAddress;
  return node;
}

/** Every node of an origin config, the origin first. */
export function nodesFromConfig(config: OriginConfig): HavenNode[] {
  return [originNode(config), ...config.nodes.map(nodeFromEntry)];
}
