/**
 * Unit-test fixture for entry routing: node `par` following a routing state on a clock the test moves.
 * Not exported from the package.
 */
import { ViewerTokenKey } from '@haven/core';
import { createEntryRouting, type EntryRoutingDeps } from './entry.js';
import { createRoutingStateFollower, digestHa1, type RoutingState } from '@haven/core';

export const HAVEN = '0123456789abcdef';

/** The entry's own token key. */
export const KEY = new ViewerTokenKey();

/** The viewer part of a routing state: user `viewer`, password `pw`. */
export const VIEWER: RoutingState['viewer'] = { user: 'viewer', realm: 'Stream Haven', ha1: digestHa1('viewer', 'Stream Haven', 'pw') };

/** Entry routing for `par` (ready unless `deps` says otherwise); `advance` moves the follower's clock. */
export function entryOnClock(deps: Partial<EntryRoutingDeps> = {}) {
  let now = 1_000_000;
  const follower = createRoutingStateFollower({ haven: HAVEN, maxAgeMs: 6000, now: () => now });
  const e = createEntryRouting({
    self: 'par',
    follower,
    tokenKey: () => KEY,
    mediaRtsp: () => '127.0.0.1:8654',
    rtspListen: { host: '127.0.0.1', port: 0 },
    selfReady: () => true,
    ...deps,
  });
  return { e, follower, advance: (ms: number) => (now += ms) };
}
