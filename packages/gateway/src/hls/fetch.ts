import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface FetchedText {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** GET a small text resource with a deadline and a size cap (playlists); never follows redirects. */
export function fetchText(url: string, headers: Record<string, string>, timeoutMs: number, maxBytes = 262_144): Promise<FetchedText> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'GET', headers, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > maxBytes) {
          res.destroy();
          reject(new Error('response too large'));
          return;
        }
        chunks.push(d);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
