import { judge } from './profile.js';
import type { IngestTrack } from '@haven/core';
import type { IngestFacts, IngestProbe, IngestVerdict } from './types.js';
import { codecFamily } from './profile.js';

const VIDEO = new Set(['h264', 'h265', 'av1', 'vp9', 'vp8', 'mpeg-4video', 'mpeg-1/2video', 'm-jpeg']);

/** Is this MediaMTX/ffprobe codec a video codec? */
export function isVideoCodec(codec: string): boolean {
  return VIDEO.has(codecFamily(codec)) || /video|jpeg|vp[89]|av1|hevc|h26[45]/i.test(codec);
}

/**
 * Merge MediaMTX's track list (what the publisher announced) with the sample (what the packets say).
 * MediaMTX's codec and parameters win where both speak: they are what every reader is offered.
 */
export function mergeFacts(tracks: readonly IngestTrack[], probe: IngestProbe | undefined): IngestFacts {
  const vt = tracks.find((t) => isVideoCodec(t.codec));
  const at = tracks.find((t) => !isVideoCodec(t.codec));
  const facts: IngestFacts = { sampledSec: probe?.durationSec ?? 0 };
  const pv = probe?.video;
  if (vt || pv) {
    const base: NonNullable<IngestProbe['video']> = pv ?? { codec: 'unknown', keyframes: 0, bFrames: false };
    const video = { ...base, codec: vt?.codec ?? pv?.codec ?? 'unknown' };
    if (vt?.width) video.width = vt.width;
    if (vt?.height) video.height = vt.height;
    if (vt?.profile) video.profile = vt.profile;
    facts.video = video;
  }
  const pa = probe?.audio;
  if (at || pa) {
    const audio: NonNullable<IngestFacts['audio']> = { codec: at?.codec ?? pa?.codec ?? 'unknown' };
    const sampleRate = at?.sampleRate ?? pa?.sampleRate;
    const channels = at?.channels ?? pa?.channels;
    if (sampleRate) audio.sampleRate = sampleRate;
    if (channels) audio.channels = channels;
    if (pa?.kbps !== undefined) audio.kbps = pa.kbps;
    facts.audio = audio;
  }
  if (pv?.kbps !== undefined || pa?.kbps !== undefined) facts.totalKbps = (pv?.kbps ?? 0) + (pa?.kbps ?? 0);
  return facts;
}

/** The whole check of one stream from its tracks and sample. Pure. */
export function checkIngest(
  stream: string,
  tracks: readonly IngestTrack[],
  probe: IngestProbe | undefined,
  opts: { audioFix?: boolean; now?: number } = {},
): IngestVerdict {
  const facts = mergeFacts(tracks, probe);
  const j = judge(facts, { audioFix: opts.audioFix ?? false });
  return { stream, level: j.level, pc: j.pc, quest: j.quest, findings: j.findings, facts, checkedAt: opts.now ?? Date.now() };
}
