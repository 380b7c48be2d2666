import type { Locator, RoutingState, RoutingStateFollower, ViewerLocation } from '@haven/core';
import { compileOverrides, parseIp, type OverrideTable } from '@haven/plugin-geo';

/**
 * Where an entry node places a viewer: the origin's geo overrides first (the routing state's
 * `places`), so an entry sends a viewer in a network the streamer placed where the origin would; then
 * this node's own locator (a locator plugin in its haven.yaml), if it has one. Without either, a viewer
 * has no location and the entry serves it itself.
 * The overrides are compiled once per state version; a state whose places do not compile (a region
 * this node does not know) keeps the last good table and says so once.
 */
export function createEntryLocator(o: {
  follower: Pick<RoutingStateFollower, 'state'>;
  own: () => Locator | undefined;
  onInvalid?: (message: string) => void;
}): Locator {
  let compiledFor: RoutingState['places'] | null = null;
  let table: OverrideTable | undefined;
  const places = (): OverrideTable | undefined => {
    const list = o.follower.state()?.places;
    if (list === compiledFor) return table;
    compiledFor = list;
    try {
      table = list && list.length > 0 ? compileOverrides(list) : undefined;
    } catch (err) {
      o.onInvalid?.(`the origin's geo overrides could not be used here (${(err as Error).message}); this entry keeps the ones it had`);
    }
    return table;
  };
  return {
    name: 'entry-places',
    capabilities: { ipv6: true, updates: true },
    locate(ip: string): ViewerLocation | undefined {
      const t = places();
      const parsed = t ? parseIp(ip) : undefined;
      const hit = parsed ? t?.match(parsed) : undefined;
      if (hit) return hit;
      try {
        return o.own()?.locate(ip);
      } catch {
        return undefined;
      }
    },
  };
}
