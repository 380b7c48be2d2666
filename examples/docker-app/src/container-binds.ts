import { isIP } from 'node:net';
import { HavenError } from '@haven/core';

/**
 * Hosts a container image binds its listeners on, from its environment (the Dockerfile's ENV).
 * Inside a container a port mapping delivers traffic to the container's own interface, never to
 * its loopback, so the image binds the control API and ingest on 0.0.0.0; compose publishes the
 * API on the host's loopback only. Each variable replaces the host part of the configured listen
 * address; the port stays as haven.yaml (or the plugin default) sets it. Outside a container
 * neither is set and haven.yaml alone decides.
 */
export interface ContainerBinds {
  /** `HAVEN_API_BIND`: host for `api.listen` (the control API and status page). */
  api?: string;
  /** `HAVEN_INGEST_BIND`: host for MediaMTX's RTMP and SRT ingest listeners. */
  ingest?: string;
}

const VARS = { api: 'HAVEN_API_BIND', ingest: 'HAVEN_INGEST_BIND' } as const;

export function containerBinds(env: NodeJS.ProcessEnv = process.env): ContainerBinds {
  const out: ContainerBinds = {};
  for (const key of Object.keys(VARS) as Array<keyof typeof VARS>) {
    const raw = env[VARS[key]]?.trim();
    if (!raw) continue;
    if (isIP(raw) === 0) {
      throw new HavenError(`${VARS[key]}="${raw}" is not an IP address: set it to the address to listen on (0.0.0.0 in a container) or unset it`, {
        code: 'CONFIG_INVALID',
      });
    }
    out[key] = raw;
  }
  return out;
}

/** `host:port` with the host replaced (`[v6]:port` for IPv6). */
export function withHost(listen: string, host: string): string {
  const port = listen.slice(listen.lastIndexOf(':') + 1);
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
