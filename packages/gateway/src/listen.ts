import { once } from 'node:events';
import type { Server } from 'node:net';
import { HavenError } from '@haven/core';

/**
 * Listen, or close the server and throw a GATEWAY_LISTEN error naming the address and the config
 * keys to change. Resolves with the bound address (port 0 picks a free one).
 */
export async function listenOrThrow(
  srv: Server,
  at: { host: string; port: number; backlog?: number },
  what: string,
  keys: string,
): Promise<{ host: string; port: number } | undefined> {
  try {
    srv.listen(at);
    await Promise.race([once(srv, 'listening'), once(srv, 'error').then(([e]) => Promise.reject(e))]);
  } catch (err) {
    srv.close();
    throw new HavenError(`the ${what} cannot listen on ${at.host}:${at.port}: free the port or change ${keys}`, {
      code: 'GATEWAY_LISTEN',
      cause: err,
      details: { host: at.host, port: at.port },
    });
  }
  const a = srv.address();
  return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
}
