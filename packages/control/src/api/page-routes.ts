import { createHash } from 'node:crypto';
import type { RouteDef } from './context.js';
import { BASE_HEADERS } from './http.js';
import { PAGE_ASSETS } from './page/assets.generated.js';

const etags = new Map<string, string>();

function etagOf(path: string, body: string): string {
  let tag = etags.get(path);
  if (!tag) {
    tag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    etags.set(path, tag);
  }
  return tag;
}

/** The status page: static files built into the package (no external resources, works offline). */
export function pageRoutes(): RouteDef[] {
  const routes: RouteDef[] = Object.entries(PAGE_ASSETS).map(([path, asset]) => ({
    method: 'GET',
    path,
    auth: 'public',
    tag: 'page',
    summary: path === '/' ? 'The live status page.' : `Status page asset ${path}.`,
    produces: asset.type,
    handler: async ({ req, res }) => {
      const etag = etagOf(path, asset.body);
      const headers = { ...BASE_HEADERS, etag, 'cache-control': 'no-cache' };
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      res.writeHead(200, { ...headers, 'content-type': asset.type, 'content-length': Buffer.byteLength(asset.body) });
      res.end(asset.body);
    },
  }));
  routes.push({
    method: 'GET',
    path: '/favicon.ico',
    auth: 'public',
    tag: 'page',
    summary: 'No .ico: the page links its SVG icon.',
    produces: 'image/x-icon',
    handler: async ({ res }) => {
      res.writeHead(204, { ...BASE_HEADERS, 'cache-control': 'max-age=86400' });
      res.end();
    },
  });
  return routes;
}
