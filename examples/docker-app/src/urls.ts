import { SecretStore, type HavenConfig, type HavenSecrets } from '@haven/core';
import type { Loaded } from './runtime.js';
import { ingestPathPrefix } from './ingest-view.js';

export interface HavenUrls {
  publish: Array<{ stream: string; rtmp: string; obsServer: string; obsStreamKey: string; srt: string }>;
  viewer: Array<{ stream: string; rtsp: string; rtspt: string; hls: string; /** HTTPS LL-HLS on the entry's port 443 (an entry node with `tls`): Quest follows its 302 to the nearest node. */ quest: string }>;
  note: string;
}

function hostOf(h: string): string {
  return h.includes(':') ? `[${h}]` : h;
}

/**
 * The host OBS publishes to: MediaMTX's ingest listens on loopback unless `ingest: lan` (or an explicit
 * non-loopback `rtmpAddress`), so by default the publish URLs name 127.0.0.1, not the public address.
 */
export function publishHost(config: HavenConfig, mtx: { ingest?: string; rtmpAddress?: string }): string {
  if (mtx.rtmpAddress) {
    const h = mtx.rtmpAddress.slice(0, mtx.rtmpAddress.lastIndexOf(':')).replace(/^\[|\]$/g, '');
    return h === '' || h === '0.0.0.0' || h === '::' ? config.public.host : h;
  }
  return mtx.ingest === 'lan' ? config.public.host : '127.0.0.1';
}

/** Publish URLs for OBS and viewer URLs, with the secrets in them. Printed only by `haven urls`. */
export function buildUrls(
  config: HavenConfig,
  secrets: HavenSecrets,
  ingest: { rtmpPort: number; srtPort: number; host?: string; /** `ingest/` while the audio fix is on (OBS publishes there). */ pathPrefix?: string },
): HavenUrls {
  const pre = ingest.pathPrefix ?? '';
  // OBS joins Server and Stream Key with "/": the prefix goes in the Server so the key stays the stream name.
  const app = pre ? `/${pre.replace(/\/$/, '')}` : '';
  const host = hostOf(config.public.host);
  const pubHost = hostOf(ingest.host ?? config.public.host);
  const user = config.viewer.user;
  const pw = encodeURIComponent(secrets.viewerPassword);
  const key = encodeURIComponent(secrets.streamKey);
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
    viewer: config.streams.map((s) => ({
      stream: s.name,
      rtsp: `rtsp://${user}:${pw}@${host}:${config.public.rtspPort}/${s.name}`,
      rtspt: `rtspt://${user}:${pw}@${host}:${config.public.rtspPort}/${s.name}`,
      hls: `http://${user}:${pw}@${host}:${config.public.hlsPort}/${s.name}/index.m3u8`,
      quest: `https://${user}:${pw}@${host}/${s.name}/index.m3u8`,
    })),
    note: 'These URLs contain your stream key and viewer password. Share viewer URLs with viewers only; never show the publish URL on stream.',
  };
}

export async function urlsFor(l: Loaded): Promise<HavenUrls> {
  const store = await SecretStore.open(l.loaded.stateDir);
  const mtx = (l.loaded.pluginOptions.mediamtx ?? {}) as { rtmpAddress?: string; srtAddress?: string; ingest?: string };
  const port = (a: string | undefined, d: number) => (a ? Number(a.slice(a.lastIndexOf(':') + 1)) : d);
  return buildUrls(l.loaded.config, store.get(), { rtmpPort: port(mtx.rtmpAddress, 1935), srtPort: port(mtx.srtAddress, 8890), host: publishHost(l.loaded.config, mtx), ...ingestPathPrefix(l) });
}
