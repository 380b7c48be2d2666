import { orderEntries, originExposure, parseHostPort, SecretStore, type HavenConfig, type HavenSecrets } from '@haven/core';
import type { Loaded } from '../home/loaded.js';
import { ingestPathPrefix } from './ingest-view.js';
import { ApiClient } from './client.js';
import { detectLanAddress } from '../home/lan-address.js';

export interface HavenUrls {
  publish: Array<{ stream: string; rtmp: string; obsServer: string; obsStreamKey: string; srt: string }>;
  /**
   * Viewer URLs. A private origin (`exposure`): one per entry node (its gateway sends each viewer on to
   * the nearest healthy node), ordered by region, never naming the origin. Otherwise the origin's own.
   */
  viewer: Array<{ stream: string; rtsp: string; rtspt: string; hls: string; /** The entry node of this URL (private origin). */ entry?: string; region?: string;
    /**
     * HTTPS LL-HLS on the entry's port 443 (an entry node with `tls`): Quest follows its 302 to the
     * nearest node. Entry nodes only: the origin never has a certificate. While the origin runs, only
     * for the entries that serve a certificate now; from the config alone (origin stopped), for each.
     */
    quest?: string }>;
  /** Which URL to paste into a VRChat world. */
  vrchat: string;
  note: string;
}

const trimBase = (u: string): string => u.replace(/\/+$/, '');

function hostOf(h: string): string {
  return h.includes(':') ? `[${h}]` : h;
}

/**
 * The host OBS publishes to: MediaMTX's ingest listens on loopback unless `ingest: lan` (or an explicit
 * non-loopback `rtmpAddress`), so by default the publish URLs name 127.0.0.1, not the public address.
 * An explicit `rtmpAddress` host is named as it is. On every interface (`ingest: lan`, `:1935`): a
 * public origin names `public.host`; a private one names its LAN address (`lan`, by default the
 * address of the interface with the default route, see `lan-address.ts`), never the public address
 * (that is the NAT's, and a private origin names it nowhere).
 */
export function publishHost(config: HavenConfig, mtx: { ingest?: string; rtmpAddress?: string }, lan: () => string | undefined = detectLanAddress): string {
  const everyInterface = () => (config.role === 'origin' && originExposure(config) === 'private' ? (lan() ?? '127.0.0.1') : config.public.host);
  if (mtx.rtmpAddress) {
    const h = parseHostPort(mtx.rtmpAddress).host;
    return h === '' || h === '0.0.0.0' || h === '::' ? everyInterface() : h;
  }
  return mtx.ingest === 'lan' ? everyInterface() : '127.0.0.1';
}

/** Publish URLs for OBS and viewer URLs, with the secrets in them. Printed only by `haven urls`. */
export function buildUrls(
  config: HavenConfig,
  secrets: HavenSecrets,
  ingest: { rtmpPort: number; srtPort: number; host?: string; /** `ingest/` while the audio fix is on (OBS publishes there). */ pathPrefix?: string },
  /** The running origin's word on which entries serve HTTPS now (node name -> HTTPS HLS base); absent: not known. */
  https?: ReadonlyMap<string, string>,
): HavenUrls {
  const pre = ingest.pathPrefix ?? '';
  // OBS joins Server and Stream Key with "/": the prefix goes in the Server so the key stays the stream name.
  const app = pre ? `/${pre.replace(/\/$/, '')}` : '';
  const host = hostOf(config.public.host);
  const pubHost = hostOf(ingest.host ?? config.public.host);
  const user = config.viewer.user;
  const pw = encodeURIComponent(secrets.viewerPassword);
  const key = encodeURIComponent(secrets.streamKey);
  const entries = config.role === 'origin' && originExposure(config) === 'private' ? orderEntries(config.nodes) : undefined;
  const viewer: HavenUrls['viewer'] = entries
    ? config.streams.flatMap((s) =>
        entries.map((n) => {
          const rtsp = trimBase(n.rtsp).replace(/^rtsp:\/\//, '');
          // A node with a certificate serves its HLS port over HTTPS only.
          const secure = https?.get(n.name);
          const hls = secure ? new URL(secure).host : n.hls ? trimBase(n.hls).replace(/^https?:\/\//, '') : undefined;
          const quest = !https || secure ? { quest: `https://${user}:${pw}@${rtsp.replace(/:\d+$/, '')}/${s.name}/index.m3u8` } : {};
          return {
            stream: s.name,
            rtsp: `rtsp://${user}:${pw}@${rtsp}/${s.name}`,
            rtspt: `rtspt://${user}:${pw}@${rtsp}/${s.name}`,
            hls: hls ? `${secure ? 'https' : 'http'}://${user}:${pw}@${hls}/${s.name}/index.m3u8` : '',
            ...quest,
            entry: n.name,
            ...(n.region ? { region: n.region } : {}),
          };
        }),
      )
    : config.streams.map((s) => ({
        stream: s.name,
        rtsp: `rtsp://${user}:${pw}@${host}:${config.public.rtspPort}/${s.name}`,
        rtspt: `rtspt://${user}:${pw}@${host}:${config.public.rtspPort}/${s.name}`,
        hls: `http://${user}:${pw}@${host}:${config.public.hlsPort}/${s.name}/index.m3u8`,
      }));
  const vrchat = entries
    ? entries.length === 0
      ? 'This origin is private and has no entry node yet: add a node (`haven node add`), or set `exposure: public`.'
      : 'Paste the rtspt:// URL of the entry in the world\'s region into that world (one entry per world region); every entry sends viewers on to their nearest node. If the world\'s player takes several URLs, list the other entries as fallbacks: when an entry dies, viewers re-open through another.'
    : 'Paste the rtspt:// URL into the world\'s video player.';
  return {
    publish:
      config.role === 'origin'
        ? config.streams.map((s) => ({
            stream: s.name,
            rtmp: `rtmp://${pubHost}:${ingest.rtmpPort}/${pre}${s.name}?user=publisher&pass=${key}`,
            obsServer: `rtmp://${pubHost}:${ingest.rtmpPort}${app}`,
            obsStreamKey: `${s.name}?user=publisher&pass=${key}`,
            srt: `srt://${pubHost}:${ingest.srtPort}?streamid=publish:${pre}${s.name}:publisher:${key}&pkt_size=1316`,
          }))
        : [],
    viewer,
    vrchat,
    note: 'These URLs contain your stream key and viewer password. Share viewer URLs with viewers only; never show the publish URL on stream.',
  };
}

/** What a node of a private origin says instead of viewer URLs: it holds no viewer password. */
export const NO_VIEWER_PASSWORD_ON_NODE =
  "This node holds no viewer password (its origin is private: viewers are checked against a verifier the origin sends). Viewer URLs, with this node as an entry, come from the streamer's `haven urls` on the origin.";

export async function urlsFor(l: Loaded): Promise<HavenUrls> {
  if (l.loaded.config.role === 'node' && l.join?.viewerPasswordHeld === false) {
    return { publish: [], viewer: [], vrchat: NO_VIEWER_PASSWORD_ON_NODE, note: NO_VIEWER_PASSWORD_ON_NODE };
  }
  const store = await SecretStore.open(l.loaded.stateDir);
  const mtx = (l.loaded.pluginOptions.mediamtx ?? {}) as { rtmpAddress?: string; srtAddress?: string; ingest?: string };
  const port = (a: string | undefined, d: number) => (a ? (parseHostPort(a).port ?? d) : d);
  return buildUrls(l.loaded.config, store.get(), { rtmpPort: port(mtx.rtmpAddress, 1935), srtPort: port(mtx.srtAddress, 8890), host: publishHost(l.loaded.config, mtx), ...ingestPathPrefix(l) }, await runningHttps(l));
}

/** Which entries serve HTTPS now, as the running origin knows from their reports; undefined while it is not running. */
async function runningHttps(l: Loaded): Promise<Map<string, string> | undefined> {
  if (l.loaded.config.role !== 'origin') return undefined;
  try {
    const api = await ApiClient.for(l);
    if (!(await api.reachable())) return undefined;
    const s = await api.call<{ nodes: Array<{ name: string; httpsUrl?: string }> }>('GET', '/api/status');
    return new Map(s.nodes.flatMap((n) => (n.httpsUrl ? [[n.name, n.httpsUrl] as const] : [])));
  } catch {
    return undefined;
  }
}
