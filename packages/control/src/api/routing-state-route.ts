import type { ApiContext, RouteDef } from './context.js';
import { ApiError, BASE_HEADERS, sendJson } from './http.js';

/**
 * `GET /api/routing-state`: entry nodes poll the origin's routing state over the VPN. Only a node
 * named by its VPN source address gets it (the state holds the viewer password's Digest HA1, which is
 * password-equivalent for the realm); `If-None-Match` with the current ETag answers 304.
 */
export function routingStateRoute(api: ApiContext): RouteDef {
  return {
    method: 'GET',
    path: '/api/routing-state',
    auth: 'report',
    tag: 'nodes',
    summary: "Entry nodes fetch the origin's routing state (nodes, health, load, viewer Digest HA1, learned players) over the VPN; versioned, ETag.",
    produces: 'application/json',
    handler: async ({ req, res, node }) => {
      const pub = api.deps.routingState;
      if (!pub) throw new ApiError(501, 'NOT_AVAILABLE', 'this Haven publishes no routing state');
      if (!node) throw new ApiError(403, 'NODE_ONLY', 'the routing state is given only to a node, over the VPN from its own address');
      const etag = pub.etag();
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { ...BASE_HEADERS, etag, 'cache-control': 'no-store' });
        res.end();
        return undefined;
      }
      sendJson(res, 200, pub.current(), { etag });
      return undefined;
    },
  };
}
