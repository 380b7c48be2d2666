import { once } from 'node:events';
import { createServer } from 'node:net';

/** A loopback TCP port that was free a moment ago (core's own tests; not exported). */
export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
