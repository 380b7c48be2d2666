/**
 * The VRChat ingest check in the app: started with the origin (ffprobe reads what the publisher
 * sends through MediaMTX's loopback RTSP listener with the internal credential), printed by
 * `haven status`, explained by `haven urls`.
 */
import { type Haven } from '@haven/core';
import { type IngestVerdict } from '@haven/ingest';
import { createIngestMonitor, ffprobeSampler, ingestDoctorChecks, type IngestMonitor } from '@haven/ingest';
import { INGEST_PREFIX } from '@haven/plugin-mediamtx';
import { print } from './output.js';
import type { Loaded } from '../home/loaded.js';

/** Publish URLs' path prefix: `ingest/` unless the audio fix is off. */
export function ingestPathPrefix(l: Loaded): { pathPrefix?: string } {
  const mtx = (l.loaded.pluginOptions.mediamtx ?? {}) as { audioFix?: string };
  return mtx.audioFix === 'off' ? {} : { pathPrefix: INGEST_PREFIX };
}

/** Run the ingest check on the origin; undefined when the media server cannot show what it receives. */
export function startIngestCheck(haven: Haven): IngestMonitor | undefined {
  const media = haven.provided.mediaServer;
  if (haven.config.role !== 'origin' || !media?.publishedTracks || !media.publishedReadUrl) return undefined;
  const readUrl = media.publishedReadUrl.bind(media);
  const tracks = media.publishedTracks.bind(media);
  return createIngestMonitor({
    events: haven.events,
    tracks,
    sampler: ffprobeSampler({ url: readUrl }),
    audioFix: (s) => media.audioFixed?.(s) ?? false,
    logger: haven.logger.child({ area: 'ingest' }),
  });
}

const WORDS = { fine: 'VRChat-ready', degrades: 'plays poorly in VRChat', breaks: 'does NOT play in VRChat' } as const;

/** `haven status` lines for one live stream's verdict. */
export function printVrchat(stream: { name: string; ready: boolean; vrchat?: IngestVerdict }): void {
  const v = stream.vrchat;
  if (!stream.ready) return;
  if (!v) {
    print(`  VRChat: checking what OBS sends…`);
    return;
  }
  const fixed = v.audioFixed ? '; audio re-encoded to AAC 48 kHz by the Haven' : '';
  print(`  VRChat: ${WORDS[v.level]} (PC ${v.pc}, Quest ${v.quest})${fixed}`);
  for (const f of v.findings) {
    if (f.level === 'fine') continue;
    print(`    ${(f.fixedByHaven ? 'fixed' : f.level).padEnd(8)} ${f.what}`);
    if (f.fix && !f.fixedByHaven) print(`             OBS: ${f.fix}`);
  }
}

/** Doctor lines for live streams (for `haven doctor`): `checks.push(...vrchatDoctorChecks(status))`. */
export const vrchatDoctorChecks = ingestDoctorChecks;

/** What `haven urls` tells the streamer about VRChat (after the URLs). */
export function printVrchatHelp(): void {
  print(`VRChat: where the rtspt:// link plays`);
  print(`  - Private instances: any URL plays.`);
  print(`  - Public instances: since VRChat SDK 3.7.5 an untrusted URL plays only if the world's`);
  print(`    allowlist names its domain (the world owner adds it), or for viewers who enabled`);
  print(`    "Allow Untrusted URLs" (Settings > Comfort & Safety). A raw-IP URL like this one is for`);
  print(`    private instances, or for worlds whose owner can allowlist it.`);
  print(`  - World video players: switch on low latency (ProTV, YamaPlayer: on by default;`);
  print(`    iwaSync, VizVid, USharpVideo: switch it on), else VRChat buffers several seconds.`);
  print();
  print(`OBS settings for VRChat (Settings > Output, Output Mode: Advanced > Streaming):`);
  print(`  Video Encoder: x264 or NVIDIA NVENC H.264 · Rate Control: CBR · Bitrate: 2500-6000 Kbps`);
  print(`  Keyframe Interval: 1 s · Profile: high (or main)`);
  print(`  Audio: AAC, Settings > Audio > Sample Rate 48 kHz, Channels Stereo, Audio Bitrate 128-160`);
  print(`  \`haven status\` checks what OBS really sends a few seconds after you go live.`);
}
