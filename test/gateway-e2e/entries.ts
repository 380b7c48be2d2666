import { createRoutingStateFollower, createRoutingStatePublisher, digestHa1, HavenEmitter, type HavenEvents, type RoutingStateFollower } from '@haven/core';
import { createEntryRouting, type EntryRouting } from '@haven/gateway';
import type { AuthHookServer } from '@haven/plugin-mediamtx';
import { freePort, stopAll, waitFor } from '../helpers/process.js';
import { mtxPathReady, PUBLISHER, RELAY, startMediamtx, startPublisher, tableLocator, VIEWER, type Mtx } from '../gateway/helpers.js';
import { GATEWAY_KEY } from '../helpers/token-key.js';
import { PARIS, recordingHooks, SECRETS, type Reads } from './setup.js';

const HAVEN = '0123456789abcdef';

export type EntryName = 'par' | 'fra';

export interface Entries {
  ports: Record<EntryName, number>;
  media: Record<EntryName, Mtx>;
  entries: Record<EntryName, EntryRouting>;
  followers: Record<EntryName, RoutingStateFollower>;
  /** Every decision of every entry's gateway, with the entry that made it. */
  routed: Array<HavenEvents['viewer:routed'][0] & { entry: EntryName }>;
  /** Every read decision of every MediaMTX auth hook (the plugin's own code). */
  reads: Reads[];
  url(entry: EntryName, password?: string): string;
  stop(): Promise<void>;
}

/**
 * Two entry nodes as the app builds them (examples/docker-app/src/node/entry-gateway.ts): each node's
 * public RTSP port is the Haven's gateway (`createEntryRouting`, from the origin's routing state), its
 * MediaMTX on a loopback port behind it, trusting the gateway's PROXY line, with the plugin's own auth
 * hook (token check included), pulling the stream from the origin's MediaMTX (fed by ffmpeg). Viewers
 * from `paris` addresses are in Paris: `par` is their nearest node, and `fra` redirects them there.
 */
export async function startEntries(
  o: {
    /** More viewer addresses placed in Paris (127.0.0.1 always is). */
    paris?: string[];
    gateway?: Record<string, unknown>;
    /** How long the publisher sends, in seconds (600 unless told). */
    publishSeconds?: number;
    /** Each entry's routing-state follower: how old a state it still trusts, and its clock. */
    follower?: (entry: EntryName) => { maxAgeMs?: number; now?: () => number };
  } = {},
): Promise<Entries> {
  const reads: Reads[] = [];
  const hooks: AuthHookServer[] = [];
  const routed: Entries['routed'] = [];
  const hook = recordingHooks(reads, hooks, ['live']);
  const origin = await startMediamtx({ authHook: await hook('origin', 'origin') });
  startPublisher(`rtsp://${PUBLISHER.user}:${PUBLISHER.password}@127.0.0.1:${origin.rtspPort}/live`, o.publishSeconds ?? 600);
  await waitFor('origin stream ready', () => mtxPathReady(origin.apiPort), 30_000);
  const relay = `rtsp://${RELAY.user}:${RELAY.password}@127.0.0.1:${origin.rtspPort}/live`;
  const media = {} as Record<EntryName, Mtx>;
  const ports = {} as Record<EntryName, number>;
  for (const n of ['par', 'fra'] as const) {
    media[n] = await startMediamtx({ source: relay, authHook: await hook('node', n), trustProxies: true });
    ports[n] = await freePort();
  }
  await waitFor('node streams ready', async () => (await mtxPathReady(media.par.apiPort)) && mtxPathReady(media.fra.apiPort), 30_000);
  const publisher = createRoutingStatePublisher({
    haven: HAVEN,
    build: () => ({
      nodes: [
        { name: 'par', location: { lat: 48.86, lon: 2.35 }, rtspUrl: `rtsp://127.0.0.1:${ports.par}`, healthy: true, capacity: 100, load: 0, entry: true },
        { name: 'fra', location: { lat: 50.11, lon: 8.68 }, region: 'eu-central', rtspUrl: `rtsp://127.0.0.1:${ports.fra}`, healthy: true, capacity: 100, load: 0, entry: true },
      ],
      viewer: { user: VIEWER.user, realm: 'Stream Haven', ha1: digestHa1(VIEWER.user, 'Stream Haven', VIEWER.password) },
      players: [],
    }),
  });
  const entries = {} as Record<EntryName, EntryRouting>;
  const followers = {} as Record<EntryName, RoutingStateFollower>;
  const paris = ['127.0.0.1', ...(o.paris ?? [])];
  for (const n of ['par', 'fra'] as const) {
    const follower = createRoutingStateFollower({ haven: HAVEN, maxAgeMs: 600_000, ...o.follower?.(n) });
    const accepted = follower.accept(JSON.parse(JSON.stringify(publisher.current())));
    if (!accepted.ok) throw new Error(`routing state refused: ${JSON.stringify(accepted)}`);
    followers[n] = follower;
    const events = new HavenEmitter();
    events.on('viewer:routed', (e) => routed.push({ ...e, entry: n }));
    entries[n] = createEntryRouting({
      self: n,
      follower,
      tokenKey: () => GATEWAY_KEY,
      mediaRtsp: () => `127.0.0.1:${media[n].rtspPort}`,
      rtspListen: { host: '127.0.0.1', port: ports[n] },
      locator: () => tableLocator(Object.fromEntries(paris.map((ip) => [ip, PARIS]))),
      gateway: { stickySec: 0, ...o.gateway },
      events,
    });
    for (const s of entries[n].list) await s.start();
  }
  // par's first probe round ran before fra's gateway listened (refused: down at once, then
  // successesToUp good rounds to come back): probe until every entry sees every other node up, as its
  // background rounds would within a few health.intervalMs.
  await waitFor('every entry seeing the others up', async () => {
    for (const e of Object.values(entries)) await e.health.probeAll();
    return Object.values(entries).every((e) => e.registry.list().every((n) => n.origin || e.health.state(n, 'live') === 'up'));
  }, 30_000, 100);
  return {
    ports,
    media,
    entries,
    followers,
    routed,
    reads,
    url: (n, password = VIEWER.password) => `rtsp://${VIEWER.user}:${password}@127.0.0.1:${ports[n]}/live`,
    stop: async () => {
      for (const e of Object.values(entries)) for (const s of [...e.list].reverse()) await s.stop();
      await stopAll();
      for (const h of hooks) await h.close();
    },
  };
}
