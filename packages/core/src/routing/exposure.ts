import type { OriginConfig } from '../config/schema.js';

export type Exposure = 'private' | 'public';

/**
 * Whether the origin is a public door (`public`: its gateway on `public.bind`, viewer URLs name it) or
 * private (`private`: nothing on a public address, viewers come through entry nodes, it dials each
 * node's WireGuard endpoint). `exposure` in the config wins (`haven init --exposure private` writes it);
 * unset is `public` for now: the end-to-end suites that reach the origin's gateway with nodes present
 * move to entry URLs before the default becomes "private once the Haven has a node". Read at start: a
 * change applies at the next `haven start`.
 */
export function originExposure(config: Pick<OriginConfig, 'exposure' | 'nodes'>): Exposure {
  return config.exposure ?? 'public';
}

/** Where a private origin's gateway listens: this machine only (the streamer can test a URL locally). */
export const PRIVATE_GATEWAY_HOST = '127.0.0.1';

/** The host the origin's gateway listens on for this exposure. */
export function originGatewayBind(config: Pick<OriginConfig, 'exposure' | 'nodes' | 'public'>): string {
  return originExposure(config) === 'private' ? PRIVATE_GATEWAY_HOST : config.public.bind;
}

/**
 * Entry nodes ordered for the streamer's list: by region, then name (so one URL per world region is
 * easy to pick). Nodes without a region come last.
 */
export function orderEntries<T extends { name: string; region?: string | undefined }>(nodes: readonly T[]): T[] {
  return [...nodes].sort((a, b) => {
    if ((a.region === undefined) !== (b.region === undefined)) return a.region === undefined ? 1 : -1;
    return (a.region ?? '').localeCompare(b.region ?? '') || a.name.localeCompare(b.name);
  });
}
