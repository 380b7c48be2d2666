import type { IngestTrack } from '@haven/core';

/** How bad a finding is for VRChat viewers. */
export type IngestLevel = 'breaks' | 'degrades' | 'fine';

/** The two VRChat clients the profile knows. */
export type VrchatPlatform = 'pc' | 'quest';

/** What a few seconds of the stream showed (from ffprobe's packets). */
export interface IngestProbe {
  /** Seconds of media read. */
  durationSec: number;
  video?: {
    codec: string;
    width?: number;
    height?: number;
    fps?: number;
    profile?: string;
    /** Mean distance between keyframes; undefined with fewer than two keyframes in the sample. */
    keyframeIntervalSec?: number;
    keyframes: number;
    kbps?: number;
    /** True when packets arrive out of presentation order (B-frames). */
    bFrames: boolean;
  };
  audio?: { codec: string; sampleRate?: number; channels?: number; kbps?: number };
}

/** Tracks and sample merged: the facts the profile judges. */
export interface IngestFacts {
  video?: IngestProbe['video'] & { codec: string };
  audio?: { codec: string; sampleRate?: number; channels?: number; kbps?: number };
  /** Video + audio bitrate, kbit/s. */
  totalKbps?: number;
  /** Seconds sampled (0 when only MediaMTX's track list was read). */
  sampledSec: number;
}

export interface IngestFinding {
  /** Stable rule id, e.g. `video-codec`, `audio-rate`, `keyframe-interval`. */
  rule: string;
  level: IngestLevel;
  /** Platforms where the finding applies. */
  platforms: VrchatPlatform[];
  /** What was seen and what it does in VRChat, one sentence. */
  what: string;
  /** The OBS setting to change, in OBS's own words; absent when nothing needs changing. */
  fix?: string;
  /** Where the rule comes from (short cite). */
  source: string;
  /** The origin repairs this itself (audio fix on): viewers are not affected. */
  fixedByHaven?: boolean;
}

/** The profile's verdict on one stream. */
export interface IngestVerdict {
  stream: string;
  /** Worst level over findings not fixed by the Haven. */
  level: IngestLevel;
  pc: IngestLevel;
  quest: IngestLevel;
  findings: IngestFinding[];
  facts: IngestFacts;
  /** Epoch ms of the check. */
  checkedAt: number;
  /** The audio fix is serving viewers AAC 48 kHz (set by the app when it runs). */
  audioFixed?: boolean;
}
