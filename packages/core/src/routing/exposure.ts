import type { OriginConfig } from '../config/schema.js';

export type Exposure = 'private' | 'public';

/**
 * Whether the origin is a public door (`public`: its gateway on `public.bind`, viewer URLs name it) or
 * private (`private`: nothing on a public address, viewers come through entry nodes, it dials each
 * node's WireGuard endpoint). `exposure` in the config wins (`haven init --exposure public|private`
 * writes it); unset is `private` once the Haven has a node (the entries are its front door) and
 * `public` while it has none (a streamer with no node yet is served by this machine).
 *
 * Everything but the gateway's listeners follows this live (viewer URLs, the status page, the origin's
 * registry entry, dial-out, the join bundle). The listeners are bound at start: after the first
 * `haven node add` on a running origin with `exposure` unset, its gateway stays on `public.bind` until
 * the next `haven start`, so viewers holding its URL keep playing (see `exposureChange`).
 */
export function originExposure(config: Pick<OriginConfig, 'exposure' | 'nodes'>): Exposure {
  return config.exposure ?? (config.nodes.length > 0 ? 'private' : 'public');
}

/** Why the origin has its exposure: set in the config, or the default (and from what). */
export function exposureReason(config: Pick<OriginConfig, 'exposure' | 'nodes'>): string {
  if (config.exposure) return `exposure: ${config.exposure} in the config`;
  const n = config.nodes.length;
  return n > 0 ? `exposure unset and the Haven has ${n} node${n === 1 ? '' : 's'}` : 'exposure unset and the Haven has no node yet';
}

/**
 * The running gateway against the config: `undefined` when its listeners match the exposure now, else
 * what the streamer needs to know (the listeners move at the next `haven start`).
 */
export function exposureChange(running: Exposure, config: Pick<OriginConfig, 'exposure' | 'nodes'>): string | undefined {
  const now = originExposure(config);
  if (now === running) return undefined;
  return now === 'private'
    ? `this origin is private from the next \`haven start\` (${exposureReason(config)}): until then its gateway still listens on the public address, so viewers holding its URL keep playing; give new viewers the entry URLs (\`haven urls\`), which never name this machine; to stay public, set \`exposure: public\` in haven.yaml`
    : `this origin is public from the next \`haven start\` (${exposureReason(config)}): until then its gateway listens on loopback only and the viewer URL that names this machine does not answer`;
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
