import { isIP } from 'node:net';
import { z } from 'zod';
import { normalizeIp } from '../routing/ip.js';
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

/**
 * `GET /api/locate?ip=`: an entry node asks where a viewer that just connected to it is, over the VPN,
 * so that it sends the viewer to the nearest node as the origin would; only the origin holds a GeoIP
 * database (entries keep no copy of it). Only a node named by its VPN source address may ask.
 */
export function locateRoute(api: ApiContext): RouteDef {
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
      const l = api.deps.locate(normalizeIp((query as { ip: string }).ip));
      if (!l) return { location: null };
      return { location: { lat: l.lat, lon: l.lon, ...(l.country ? { country: l.country } : {}), ...(l.city ? { city: l.city } : {}), ...(l.source ? { source: l.source } : {}) } };
    },
  };
}
