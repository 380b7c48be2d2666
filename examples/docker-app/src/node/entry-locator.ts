import { ipGroups, type Locator, type RoutingState, type RoutingStateFollower, type ViewerLocation } from '@haven/core';
import { TokenBuckets } from '@haven/door';
import { compileOverrides, LruCache, parseIp, type OverrideTable } from '@haven/plugin-geo';

/** What the origin said of an address, and when (an unknown address is kept too, shorter). */
interface Answer {
  location: ViewerLocation | undefined;
  at: number;
}

const KNOWN_TTL_MS = 60 * 60_000;
const UNKNOWN_TTL_MS = 5 * 60_000;
/** Questions to the origin about one network (IPv4 /24, IPv6 /48) per second on average, and at once. */
export const ASK_PER_PREFIX = { ratePerSec: 1, burst: 8 };
/** Questions to the origin in flight at once. */
const MAX_ASKING = 64;

/**
 * Where an entry node places a viewer: the origin's geo overrides first (the routing state's
 * `places`), so an entry sends a viewer in a network the streamer placed where the origin would; then
 * this node's own locator (a locator plugin in its haven.yaml), if it has one; then the origin itself
 * (`GET /api/locate` over the VPN: only the origin holds a GeoIP database). The origin is asked when
 * the viewer connects (`prepare`), so its answer is there by the time the viewer has authenticated;
 * answers are cached per address group (an IPv4 address, an IPv6 /64: a sender with a fresh address per
 * connection asks once) for an hour (an unknown address or a failed call five minutes, so a brief
 * outage does not pin viewers on this entry for long). Questions are rate-limited per network and in
 * flight, so a flood of connections makes no lookup storm at the origin. Without any answer a viewer
 * has no location and the entry serves it itself.
 * The overrides are compiled once per state version; a state whose places do not compile (a region
 * this node does not know) keeps the last good table and says so once.
 */
export function createEntryLocator(o: {
  follower: Pick<RoutingStateFollower, 'state'>;
  own: () => Locator | undefined;
  /** Ask the origin where `ip` is; undefined: unknown. May reject (origin unreachable). */
  origin?: (ip: string) => Promise<ViewerLocation | undefined>;
  onInvalid?: (message: string) => void;
  /** Cached addresses at most. Default 10,000. */
  cacheSize?: number;
  now?: () => number;
}): Locator {
  const now = o.now ?? Date.now;
  let compiledFor: RoutingState['places'] | null = null;
  let table: OverrideTable | undefined;
  const answers = new LruCache<string, Answer>(o.cacheSize ?? 10_000);
  const asking = new Map<string, Promise<void>>();
  const perPrefix = new TokenBuckets({ ...ASK_PER_PREFIX, maxTracked: 20_000, now });
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
  const here = (ip: string): ViewerLocation | undefined => {
    const t = places();
    const parsed = t ? parseIp(ip) : undefined;
    const hit = parsed ? t?.match(parsed) : undefined;
    if (hit) return hit;
    try {
      return o.own()?.locate(ip);
    } catch {
      return undefined;
    }
  };
  const fresh = (ip: string): Answer | undefined => {
    const a = answers.get(ipGroups(ip).address);
    return a && now() - a.at < (a.location ? KNOWN_TTL_MS : UNKNOWN_TTL_MS) ? a : undefined;
  };
  return {
    name: 'entry-places',
    capabilities: { ipv6: true, updates: true },
    locate(ip: string): ViewerLocation | undefined {
      return here(ip) ?? fresh(ip)?.location;
    },
    prepare(ip: string): Promise<void> {
      const ask = o.origin;
      if (!ask || here(ip) || fresh(ip) || !parseIp(ip)) return Promise.resolve();
      const { address, prefix } = ipGroups(ip);
      let p = asking.get(address);
      if (!p) {
        // Over the network's rate or with too many questions open: this viewer stays unplaced (served here).
        if (asking.size >= MAX_ASKING || !perPrefix.take(prefix)) return Promise.resolve();
        p = ask(ip)
          .then(
            (location) => answers.set(address, { location, at: now() }),
            () => answers.set(address, { location: undefined, at: now() }),
          )
          .finally(() => asking.delete(address));
        asking.set(address, p);
      }
      return p;
    },
  };
}
