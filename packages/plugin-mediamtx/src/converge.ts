import type { MediaMtxApi } from './api.js';

/** How long to wait for MediaMTX's own file reload before applying the paths through the API, ms. */
export const CONVERGE_WAIT_MS = 1_200;

export interface PathDiff {
  /** Missing, or some rendered key differs. */
  replace: string[];
  /** Configured in MediaMTX but not wanted. */
  remove: string[];
}

/** Compare the wanted path configs with MediaMTX's running ones (only the keys we render). */
export async function diffPaths(api: Pick<MediaMtxApi, 'listPathConfs'>, desired: ReadonlyMap<string, Record<string, unknown>>): Promise<PathDiff> {
  const current = new Map((await api.listPathConfs()).items.map((c) => [c.name, c as Record<string, unknown>]));
  const replace: string[] = [];
  for (const [name, conf] of desired) {
    const cur = current.get(name);
    if (!cur || !covers(cur, conf)) replace.push(name);
  }
  const remove = [...current.keys()].filter((n) => !desired.has(n));
  return { replace, remove };
}

/**
 * Whether MediaMTX's running value has what we rendered: arrays element by element, objects key by key
 * (only our keys: MediaMTX fills in the rest, e.g. `sampleRate: 0` of a video track), the rest by ===.
 */
export function covers(current: unknown, wanted: unknown): boolean {
  if (Array.isArray(wanted)) return Array.isArray(current) && current.length === wanted.length && wanted.every((w, i) => covers(current[i], w));
  if (wanted !== null && typeof wanted === 'object') {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return false;
    const cur = current as Record<string, unknown>;
    return Object.entries(wanted as Record<string, unknown>).every(([k, v]) => covers(cur[k], v));
  }
  return current === wanted;
}

/**
 * After the config file was rewritten, wait for MediaMTX's hot reload to show the wanted paths. If it does
 * not within `waitMs` (MediaMTX drops file events within 1 s of the previous reload), apply the same path
 * configs through the API so the running config and the file agree.
 */
export async function convergePaths(
  api: Pick<MediaMtxApi, 'listPathConfs' | 'replacePathConf' | 'deletePathConf'>,
  desired: ReadonlyMap<string, Record<string, unknown>>,
  waitMs: number,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const diff = await diffPaths(api, desired);
    if (diff.replace.length === 0 && diff.remove.length === 0) return;
    if (Date.now() >= deadline) {
      for (const name of diff.replace) await api.replacePathConf(name, desired.get(name) ?? {});
      for (const name of diff.remove) await api.deletePathConf(name);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
