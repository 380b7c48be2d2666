import { isIP } from 'node:net';
import { z } from 'zod';
import { ipGroups, normalizeIp } from '@haven/core';
import { TokenBuckets } from '@haven/door';
import type { ApiContext, RouteDef } from './context.js';
import { ApiError } from './http.js';
import { responseSchemas } from './schemas.js';

export const locateQuerySchema = z.object({
  ip: z.string().max(64).refine((ip) => isIP(normalizeIp(ip)) !== 0, 'expected an IPv4 or IPv6 address'),
});

export const locateViewSchema = z
  .object({
    /** Where the origin's locator (its GeoIP database and geo overrides) places the address; null: unknown. */
    location: z.object({ lat: z.number(), lon: z.number(), country: z.string().optional(), city: z.string().optional(), source: z.string().optional() }).nullable(),
  })
  .register(responseSchemas, { id: 'Location' });

/** Lookups one node may make per second on average, and at once. */
export const LOCATE_NODE_RATE = { ratePerSec: 50, burst: 200 };
/** Lookups of addresses in one network (IPv4 /24, IPv6 /48) per second on average, and at once, whoever asks. */
export const LOCATE_PREFIX_RATE = { ratePerSec: 5, burst: 40 };

/**
 * `GET /api/locate?ip=`: an entry node asks where a viewer that just connected to it is, over the VPN,
 * so that it sends the viewer to the nearest node as the origin would; only the origin holds a GeoIP
 * database (entries keep no copy of it). Only a node named by its VPN source address may ask. Lookups
 * are rate-limited per calling node and per network asked about (429 beyond), so a sender with a
 * fresh address per connection does not turn its entries into a lookup storm here.
 */
export function locateRoute(api: ApiContext): RouteDef {
  const perNode = new TokenBuckets({ ...LOCATE_NODE_RATE, maxTracked: 1024 });
  const perPrefix = new TokenBuckets({ ...LOCATE_PREFIX_RATE, maxTracked: 20_000 });
  let swept = Date.now();
  return {
    method: 'GET',
    path: '/api/locate',
    auth: 'report',
    tag: 'nodes',
    summary: "Entry nodes ask where a viewer's address is (the origin's locator: GeoIP and geo overrides), over the VPN, from the node's own address.",
    query: locateQuerySchema,
    response: locateViewSchema,
    handler: async ({ node, query }) => {
      if (!api.deps.locate) throw new ApiError(501, 'NOT_AVAILABLE', 'this Haven has no locator');
      if (node === undefined) throw new ApiError(403, 'NODE_ONLY', 'call this from a node over the VPN: its VPN address names it');
      const ip = normalizeIp((query as { ip: string }).ip);
      if (Date.now() - swept > 60_000) {
        swept = Date.now();
        perNode.sweep();
        perPrefix.sweep();
      }
      if (!perNode.take(node)) throw new ApiError(429, 'RATE_LIMITED', `node "${node}" asks more than ${LOCATE_NODE_RATE.ratePerSec} lookups per second; it keeps its viewers local meanwhile`);
      if (!perPrefix.take(ipGroups(ip).prefix)) throw new ApiError(429, 'RATE_LIMITED', `too many lookups for one network (${ipGroups(ip).prefix}); answers for it are cached at the entry`);
      const l = api.deps.locate(ip);
      if (!l) return { location: null };
      return { location: { lat: l.lat, lon: l.lon, ...(l.country ? { country: l.country } : {}), ...(l.city ? { city: l.city } : {}), ...(l.source ? { source: l.source } : {}) } };
    },
  };
}
