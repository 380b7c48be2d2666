import { BlockList, isIP } from 'node:net';
import { HavenError, joinHostPort, normalizeIp, parseHostPort } from '@haven/core';

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
  return joinHostPort(host, parseHostPort(listen).port ?? '');
}

/**
 * Who must show the control token for every read (status, viewers, metrics, the page) on the origin's
 * control API: every VPN peer always (nodes have their own report listener), and, when a container
 * binds the API beyond loopback (`HAVEN_API_BIND`), every address but loopback and the container's
 * default gateway: the host, whose loopback-published port (compose's `127.0.0.1:8880:8880`) reaches
 * the container from there. VPN peers, other containers and anything else routed in need the token.
 */
export function apiReadsNeedToken(o: { vpnSubnets: readonly string[]; containerBind?: string | undefined; hostGateway?: string | undefined }): (ip: string) => boolean {
  const vpn = new BlockList();
  for (const s of o.vpnSubnets) {
    const [net = '', len = '32'] = s.split('/');
    if (isIP(net) !== 0) vpn.addSubnet(net, Number(len), isIP(net) === 6 ? 'ipv6' : 'ipv4');
  }
  const loopback = (ip: string) => ip === '::1' || (isIP(ip) === 4 && ip.startsWith('127.'));
  const open = o.containerBind !== undefined && !loopback(o.containerBind);
  return (ip) => {
    const a = normalizeIp(ip);
    const family = isIP(a);
    if (family === 0) return true;
    if (vpn.check(a, family === 6 ? 'ipv6' : 'ipv4')) return true;
    if (!open || loopback(a)) return false;
    return a !== o.hostGateway;
  };
}
