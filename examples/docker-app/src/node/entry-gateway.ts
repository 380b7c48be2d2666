import { createHash, timingSafeEqual } from 'node:crypto';
import { type Haven, type NodeConfig, type RoutingStateFollower, type ViewerLocation } from '@haven/core';
import { createEntryRouting, type EntryRouting } from '@haven/gateway';
import { SubnetMatcher, type MediaMtxServer } from '@haven/plugin-mediamtx';
import { createEntryLocator } from './entry-locator.js';
import type { JoinState } from '../home/join-state.js';

export interface EntryGateway {
  entry: EntryRouting;
  stop(): Promise<void>;
}

/**
 * A node's entry gateway on its public RTSP port (its MediaMTX is on loopback behind it): viewers are
 * checked against the viewer HA1 from the origin's routing state, then spliced to the local MediaMTX
 * (PROXY header, a token this node signs) or redirected to the nearest healthy node with a token for
 * it. Connections from the VPN subnet (relay children pulling from this node) go to MediaMTX untouched,
 * which accepts the relay credential only from there.
 * With `tls`, the node's HTTPS entry (:443, the Quest URL) routes with the same entry routing: the
 * nearest healthy node that serves HTTPS now (this one when best, or while the state is not current),
 * viewers checked against the same HA1.
 */
export async function startEntryGateway(haven: Haven, join: JoinState, follower: RoutingStateFollower): Promise<EntryGateway> {
  const cfg = haven.config as NodeConfig;
  const vpn = new SubnetMatcher([join.subnet]);
  // Whether this node's MediaMTX has every stream now (the relay pull is up), checked each second.
  let ready = false;
  const media = () => haven.provided.mediaServer;
  const door = () => (media() as Partial<Pick<MediaMtxServer, 'httpsDoor'>> | undefined)?.httpsDoor;
  const check = async () => {
    const m = media();
    ready = !!m && (await Promise.all(cfg.streams.map((s) => m.stats(s.name).then((x) => x.ready, () => false)))).every(Boolean);
  };
  // The node's own MediaMTX (its public HLS, the origin's playlist fetches) checks viewers against the
  // routing state's HA1 too: a node of a private origin holds no viewer password.
  const viewerCheck = (user: string, password: string): boolean | undefined => {
    const v = follower.state()?.viewer;
    if (!v) return undefined;
    const ha1 = createHash('md5').update(`${user}:${v.realm}:${password}`).digest();
    return user === v.user && timingSafeEqual(ha1, Buffer.from(v.ha1, 'hex'));
  };
  (media() as { setViewerCheck?: (c: typeof viewerCheck | undefined) => void } | undefined)?.setViewerCheck?.(viewerCheck);
  const readyTimer = setInterval(() => void check(), 1000);
  readyTimer.unref();
  await check();
  // Viewers are placed with the origin's geo overrides first (the routing state's places), then this
  // node's own locator plugin if it has one, then by the origin (asked over the VPN when they connect).
  const locator = createEntryLocator({
    follower,
    own: () => haven.provided.locator,
    origin: (ip) => locateAtOrigin(join, () => haven.secrets().relayPassword, ip),
    onInvalid: (message) => haven.logger.warn({ area: 'entry' }, message),
  });
  const entry = createEntryRouting({
    self: cfg.name,
    follower,
    tokenKey: () => haven.tokenKey(),
    mediaRtsp: () => haven.provided.mediaServer?.endpoints().rtsp,
    rtspListen: { host: cfg.public.bind, port: cfg.public.rtspPort },
    passthrough: (ip) => vpn.contains(ip),
    selfReady: () => ready,
    // Its auth gate's own view (polled fast while closed): a held read is let through once MediaMTX admits it.
    localReady: () => (media() as Partial<Pick<MediaMtxServer, 'readableNow'>> | undefined)?.readableNow?.() ?? ready,
    selfHttps: () => door()?.offer(),
    locator: () => locator,
    allowBasic: () => cfg.viewer.allowBasic,
    streams: () => cfg.streams.map((s) => s.name),
    authFailures: (ip) => haven.provided.mediaServer?.authFailures?.(ip) ?? 0,
    events: haven.events,
    logger: haven.logger,
  });
  door()?.route({ choose: (ip, stream) => entry.chooseHttps(ip, stream), viewer: () => entry.viewer(), prepare: (ip) => void entry.router.prepare(ip) });
  const started: typeof entry.list = [];
  try {
    for (const s of entry.list) {
      await s.start();
      started.push(s);
    }
  } catch (err) {
    clearInterval(readyTimer);
    door()?.route(undefined);
    for (const s of started.reverse()) await s.stop().catch(() => {});
    throw err;
  }
  return {
    entry,
    async stop() {
      clearInterval(readyTimer);
      door()?.route(undefined);
      (media() as { setViewerCheck?: (c: undefined) => void } | undefined)?.setViewerCheck?.(undefined);
      for (const s of [...entry.list].reverse()) await s.stop().catch(() => {});
    },
  };
}

/** Where the origin places `ip` (`GET /api/locate` on its report listener, with this node's credential); rejects when it cannot say. */
export async function locateAtOrigin(join: Pick<JoinState, 'reportUrl'>, credential: () => string, ip: string): Promise<ViewerLocation | undefined> {
  const res = await fetch(new URL(`/api/locate?ip=${encodeURIComponent(ip)}`, join.reportUrl), {
    headers: { authorization: `Bearer ${credential()}` },
    signal: AbortSignal.timeout(1500),
  });
  if (!res.ok) throw new Error(`the origin answered ${res.status} to /api/locate`);
  const body = (await res.json()) as { location?: ViewerLocation | null };
  return body.location ?? undefined;
}
