/**
 * What VRChat's video players accept, as rules over the facts of one published stream. Pure: no I/O.
 * Each rule cites where it comes from; the wording of each `fix` is OBS's own (Settings window labels,
 * OBS Studio 30/31, Output Mode "Advanced", Streaming tab).
 */
import type { IngestFacts, IngestFinding, IngestLevel, VrchatPlatform } from './types.js';

/** Short cites, one per piece of evidence (DESIGN.md "What VRChat's players accept" lists them). */
export const SOURCES = {
  mfSetup:
    'VRChat PC (AVPro, Media Foundation RTSP) SETUPs only tracks it can play: H.264 video, AAC or LPCM audio; Opus/G.711 give video without audio, MP3 stays silent (issue 17 evidence; DESIGN.md)',
  hevc: 'VRChat PC over RTSP: H.265 plays audio only (issue 17 evidence; DESIGN.md)',
  rate48: 'VRChat players: audio must be 48 kHz, at most 6 channels (issue 17 evidence; DESIGN.md)',
  keyframes:
    'VRChat streaming guides: 1 s keyframe interval; with long keyframe intervals VRChat repaints only on keyframes (issue 17 evidence; DESIGN.md)',
  bitrate:
    'VRChat streaming guides: 2,500-6,000 kbit/s; with a low bitrate VRChat repaints about every 3 s (issue 17 evidence; DESIGN.md)',
  bframes: 'H.264 B-frames make the decoder hold frames back for reordering (ITU-T H.264 §C.4, output order); they add latency only',
} as const;

/** The numbers the rules use; exported so the README and the tests quote the same values. */
export const VRCHAT_LIMITS = {
  audioSampleRate: 48_000,
  maxAudioChannels: 6,
  /** Keyframe interval that keeps the picture moving; up to this (plus rounding slack) is fine. */
  keyframeIntervalSec: 1,
  keyframeSlackSec: 0.25,
  minKbps: 2_500,
  maxKbps: 6_000,
} as const;

const BOTH: VrchatPlatform[] = ['pc', 'quest'];

export const OBS = {
  videoEncoder: 'Settings → Output → Streaming → Video Encoder: x264 or NVIDIA NVENC H.264 (not HEVC, not AV1)',
  audioEncoder: 'Settings → Output → Streaming → Audio Encoder: FFmpeg AAC (or CoreAudio AAC); for SRT/WHIP outputs pick AAC, not Opus',
  sampleRate: 'Settings → Audio → General → Sample Rate: 48 kHz (then restart OBS)',
  channels: 'Settings → Audio → General → Channels: Stereo',
  keyframes: 'Settings → Output → Streaming → Keyframe Interval: 1 s (0 = auto is about 8 s with x264)',
  bitrateLow: 'Settings → Output → Streaming → Rate Control: CBR, Bitrate: 2500-6000 Kbps',
  bitrateHigh: 'Settings → Output → Streaming → Bitrate: 6000 Kbps or less (Rate Control: CBR)',
  bframes: 'Settings → Output → Streaming → x264 Options: bframes=0 (NVENC: Max B-frames 0) for the lowest latency',
} as const;

/** Normalised codec family from MediaMTX's or ffprobe's name. */
export function codecFamily(codec: string): string {
  const c = codec.toLowerCase().replace(/[\s_]/g, '');
  if (c === 'h264' || c === 'avc') return 'h264';
  if (c === 'h265' || c === 'hevc') return 'h265';
  if (c === 'mpeg-4audio' || c === 'aac' || c === 'mpeg4-generic') return 'aac';
  if (c === 'mpeg-4audiolatm') return 'aac-latm';
  if (c === 'opus') return 'opus';
  if (c === 'g711' || c === 'pcm_mulaw' || c === 'pcm_alaw') return 'g711';
  if (c === 'mpeg-1/2audio' || c === 'mp3' || c === 'mp2' || c === 'mp3float') return 'mp3';
  if (c === 'lpcm' || /^pcm_s(16|24)be$/.test(c)) return 'lpcm';
  return c;
}

/** Audio codecs VRChat PC plays (everything else is either not SETUP or silent). */
export function audioPlays(codec: string): boolean {
  const f = codecFamily(codec);
  return f === 'aac' || f === 'lpcm';
}

/** Audio the origin's audio fix repairs: it plays in VRChat only after re-encoding to AAC 48 kHz. */
export function audioNeedsFix(audio: { codec: string; sampleRate?: number } | undefined): boolean {
  if (!audio) return false;
  return !audioPlays(audio.codec) || (audio.sampleRate !== undefined && audio.sampleRate !== VRCHAT_LIMITS.audioSampleRate);
}

const fine = (rule: string, what: string, source: string): IngestFinding => ({ rule, level: 'fine', platforms: BOTH, what, source });

function videoFindings(f: IngestFacts): IngestFinding[] {
  const v = f.video;
  if (!v) {
    return [{ rule: 'video-codec', level: 'breaks', platforms: BOTH, what: 'no video track: VRChat shows nothing', fix: OBS.videoEncoder, source: SOURCES.mfSetup }];
  }
  const out: IngestFinding[] = [];
  const fam = codecFamily(v.codec);
  if (fam === 'h264') out.push(fine('video-codec', `video H.264${v.profile ? ` ${v.profile}` : ''}${v.width ? ` ${v.width}x${v.height}` : ''}${v.fps ? ` ${Math.round(v.fps * 100) / 100} fps` : ''}`, SOURCES.mfSetup));
  else if (fam === 'h265') out.push({ rule: 'video-codec', level: 'breaks', platforms: BOTH, what: 'video is H.265 (HEVC): VRChat plays the audio only, the screen stays black', fix: OBS.videoEncoder, source: SOURCES.hevc });
  else out.push({ rule: 'video-codec', level: 'breaks', platforms: BOTH, what: `video is ${v.codec}: VRChat plays only H.264`, fix: OBS.videoEncoder, source: SOURCES.mfSetup });

  if (f.sampledSec > 0) {
    const k = v.keyframeIntervalSec;
    const max = VRCHAT_LIMITS.keyframeIntervalSec + VRCHAT_LIMITS.keyframeSlackSec;
    if (k === undefined) {
      out.push({
        rule: 'keyframe-interval',
        level: 'degrades',
        platforms: BOTH,
        what: `fewer than two keyframes in ${Math.round(f.sampledSec * 10) / 10} s: new viewers wait that long for a picture and VRChat repaints rarely`,
        fix: OBS.keyframes,
        source: SOURCES.keyframes,
      });
    } else if (k > max) {
      out.push({ rule: 'keyframe-interval', level: 'degrades', platforms: BOTH, what: `keyframe every ${round1(k)} s: VRChat repaints only on keyframes and new viewers wait for one`, fix: OBS.keyframes, source: SOURCES.keyframes });
    } else {
      out.push(fine('keyframe-interval', `keyframe every ${round1(k)} s`, SOURCES.keyframes));
    }
    if (v.bFrames) out.push({ rule: 'b-frames', level: 'fine', platforms: BOTH, what: 'B-frames in use: they play, at a few frames more latency', fix: OBS.bframes, source: SOURCES.bframes });
  }
  return out;
}

function audioFindings(f: IngestFacts): IngestFinding[] {
  const a = f.audio;
  if (!a) {
    return [{ rule: 'audio-codec', level: 'degrades', platforms: BOTH, what: 'no audio track: viewers hear nothing', fix: 'Settings → Audio → Global Audio Devices: pick your Desktop Audio / Mic device', source: SOURCES.mfSetup }];
  }
  const out: IngestFinding[] = [];
  const fam = codecFamily(a.codec);
  if (fam === 'aac' || fam === 'lpcm') out.push(fine('audio-codec', `audio ${fam === 'aac' ? 'AAC' : 'LPCM'}`, SOURCES.mfSetup));
  else {
    const why =
      fam === 'opus' || fam === 'g711'
        ? `audio is ${fam === 'opus' ? 'Opus' : 'G.711'}: VRChat PC takes the video alone, viewers hear nothing`
        : fam === 'mp3'
          ? 'audio is MP3: VRChat PC sets the track up but it stays silent'
          : `audio is ${a.codec}: VRChat plays only AAC or LPCM`;
    out.push({ rule: 'audio-codec', level: 'breaks', platforms: BOTH, what: why, fix: OBS.audioEncoder, source: SOURCES.mfSetup });
  }
  if (a.sampleRate !== undefined && a.sampleRate !== VRCHAT_LIMITS.audioSampleRate) {
    out.push({ rule: 'audio-rate', level: 'degrades', platforms: BOTH, what: `audio at ${a.sampleRate / 1000} kHz: VRChat expects 48 kHz (sound may be missing or distorted)`, fix: OBS.sampleRate, source: SOURCES.rate48 });
  } else if (a.sampleRate !== undefined) {
    out.push(fine('audio-rate', 'audio at 48 kHz', SOURCES.rate48));
  }
  if (a.channels !== undefined && a.channels > VRCHAT_LIMITS.maxAudioChannels) {
    out.push({ rule: 'audio-channels', level: 'breaks', platforms: BOTH, what: `${a.channels} audio channels: VRChat plays at most 6`, fix: OBS.channels, source: SOURCES.rate48 });
  }
  return out;
}

function bitrateFindings(f: IngestFacts): IngestFinding[] {
  const kbps = f.totalKbps;
  if (f.sampledSec <= 0 || kbps === undefined) return [];
  const { minKbps, maxKbps } = VRCHAT_LIMITS;
  if (kbps < minKbps) {
    return [{ rule: 'bitrate', level: 'degrades', platforms: BOTH, what: `${Math.round(kbps)} kbit/s: below 2,500 kbit/s VRChat repaints rarely (about every 3 s with 2 s keyframes)`, fix: OBS.bitrateLow, source: SOURCES.bitrate }];
  }
  if (kbps > maxKbps * 1.1) {
    return [{ rule: 'bitrate', level: 'degrades', platforms: BOTH, what: `${Math.round(kbps)} kbit/s: above 6,000 kbit/s viewers on slower links stall`, fix: OBS.bitrateHigh, source: SOURCES.bitrate }];
  }
  return [fine('bitrate', `${Math.round(kbps)} kbit/s`, SOURCES.bitrate)];
}

const round1 = (n: number) => Math.round(n * 10) / 10;

const RANK: Record<IngestLevel, number> = { fine: 0, degrades: 1, breaks: 2 };

/** The worse of two levels. */
export function worse(a: IngestLevel, b: IngestLevel): IngestLevel {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * Judge a stream's facts against the VRChat profile. `audioFix` says the origin re-encodes the audio
 * to AAC 48 kHz for viewers: audio findings are then marked `fixedByHaven` and do not count.
 */
export function judge(facts: IngestFacts, opts: { audioFix?: boolean } = {}): { findings: IngestFinding[]; level: IngestLevel; pc: IngestLevel; quest: IngestLevel } {
  const findings = [...videoFindings(facts), ...audioFindings(facts), ...bitrateFindings(facts)];
  if (opts.audioFix && audioNeedsFix(facts.audio)) {
    for (const x of findings) if ((x.rule === 'audio-codec' || x.rule === 'audio-rate') && x.level !== 'fine') x.fixedByHaven = true;
  }
  let pc: IngestLevel = 'fine';
  let quest: IngestLevel = 'fine';
  for (const x of findings) {
    if (x.fixedByHaven) continue;
    if (x.platforms.includes('pc')) pc = worse(pc, x.level);
    if (x.platforms.includes('quest')) quest = worse(quest, x.level);
  }
  findings.sort((a, b) => RANK[b.level] - RANK[a.level]);
  return { findings, level: worse(pc, quest), pc, quest };
}
