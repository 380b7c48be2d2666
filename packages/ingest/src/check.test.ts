import { describe, expect, it } from 'vitest';
import { checkIngest } from './check.js';
import { ingestDoctorChecks } from './doctor.js';
import { parseFfprobe } from './ffprobe.js';
import { audioNeedsFix, OBS } from './profile.js';
import type { IngestTrack } from '@haven/core';
import type { IngestProbe } from './types.js';

const h264: IngestTrack = { codec: 'H264', width: 1280, height: 720, profile: 'High' };
const aac48: IngestTrack = { codec: 'MPEG-4 Audio', sampleRate: 48000, channels: 2 };
const probe = (over: Partial<NonNullable<IngestProbe['video']>> = {}, kbps = 3500): IngestProbe => ({
  durationSec: 6,
  video: { codec: 'h264', keyframes: 6, keyframeIntervalSec: 1, bFrames: false, kbps: kbps - 128, fps: 30, ...over },
  audio: { codec: 'aac', sampleRate: 48000, channels: 2, kbps: 128 },
});
const rule = (v: ReturnType<typeof checkIngest>, r: string) => v.findings.find((f) => f.rule === r);

describe('VRChat profile', () => {
  it('H.264 + AAC 48 kHz, 1 s keyframes, 3.5 Mbit/s is fine on PC and Quest', () => {
    const v = checkIngest('live', [h264, aac48], probe());
    expect(v.level).toBe('fine');
    expect([v.pc, v.quest]).toEqual(['fine', 'fine']);
    expect(v.findings.every((f) => f.level === 'fine' && f.source.length > 0)).toBe(true);
  });

  it('Opus audio breaks, and names the OBS audio encoder setting', () => {
    const v = checkIngest('live', [h264, { codec: 'Opus', channels: 2 }], probe());
    expect(v.level).toBe('breaks');
    expect(rule(v, 'audio-codec')).toMatchObject({ level: 'breaks', fix: OBS.audioEncoder });
    expect(rule(v, 'audio-codec')?.what).toContain('hear nothing');
  });

  it('G.711 and MP3 break too; LPCM plays', () => {
    expect(checkIngest('s', [h264, { codec: 'G711', sampleRate: 8000 }], probe()).level).toBe('breaks');
    expect(rule(checkIngest('s', [h264, { codec: 'MPEG-1/2 Audio', sampleRate: 48000 }], probe()), 'audio-codec')?.what).toContain('silent');
    expect(rule(checkIngest('s', [h264, { codec: 'LPCM', sampleRate: 48000, channels: 2 }], probe()), 'audio-codec')?.level).toBe('fine');
  });

  it('44.1 kHz AAC degrades with the Sample Rate setting', () => {
    const v = checkIngest('live', [h264, { ...aac48, sampleRate: 44100 }], probe());
    expect(v.level).toBe('degrades');
    expect(rule(v, 'audio-rate')).toMatchObject({ level: 'degrades', fix: OBS.sampleRate });
  });

  it('4 s keyframes degrade; a sample with one keyframe degrades too', () => {
    const v = checkIngest('live', [h264, aac48], probe({ keyframeIntervalSec: 4, keyframes: 2 }));
    expect(rule(v, 'keyframe-interval')).toMatchObject({ level: 'degrades', fix: OBS.keyframes });
    const one = checkIngest('live', [h264, aac48], probe({ keyframeIntervalSec: undefined, keyframes: 1 }));
    expect(rule(one, 'keyframe-interval')?.level).toBe('degrades');
    expect(rule(checkIngest('live', [h264, aac48], probe({ keyframeIntervalSec: 1.2 })), 'keyframe-interval')?.level).toBe('fine');
  });

  it('HEVC breaks: audio only in VRChat', () => {
    const v = checkIngest('live', [{ codec: 'H265', width: 1280, height: 720 }, aac48], probe({ codec: 'hevc' }));
    expect(rule(v, 'video-codec')).toMatchObject({ level: 'breaks', fix: OBS.videoEncoder });
    expect(v.level).toBe('breaks');
  });

  it('300 kbit/s degrades; 9 Mbit/s degrades; 6 Mbit/s is fine', () => {
    expect(rule(checkIngest('live', [h264, aac48], probe({}, 300)), 'bitrate')).toMatchObject({ level: 'degrades', fix: OBS.bitrateLow });
    expect(rule(checkIngest('live', [h264, aac48], probe({}, 9000)), 'bitrate')).toMatchObject({ level: 'degrades', fix: OBS.bitrateHigh });
    expect(rule(checkIngest('live', [h264, aac48], probe({}, 6000)), 'bitrate')?.level).toBe('fine');
  });

  it('more than 6 channels breaks; no audio degrades; no video breaks', () => {
    expect(rule(checkIngest('s', [h264, { ...aac48, channels: 8 }], probe()), 'audio-channels')?.level).toBe('breaks');
    expect(checkIngest('s', [h264], { durationSec: 6, video: probe().video! }).level).toBe('degrades');
    expect(checkIngest('s', [aac48], undefined).level).toBe('breaks');
  });

  it('with the audio fix on, Opus and 44.1 kHz findings are marked fixed and do not count', () => {
    const v = checkIngest('live', [h264, { codec: 'Opus', channels: 2 }], probe(), { audioFix: true });
    expect(v.level).toBe('fine');
    expect(rule(v, 'audio-codec')).toMatchObject({ level: 'breaks', fixedByHaven: true });
    expect(audioNeedsFix({ codec: 'MPEG-4 Audio', sampleRate: 44100 })).toBe(true);
    expect(audioNeedsFix({ codec: 'MPEG-4 Audio', sampleRate: 48000 })).toBe(false);
    expect(audioNeedsFix({ codec: 'Opus' })).toBe(true);
  });

  it('track list only (no sample): codecs judged, no timing findings', () => {
    const v = checkIngest('live', [h264, aac48], undefined);
    expect(v.level).toBe('fine');
    expect(rule(v, 'keyframe-interval')).toBeUndefined();
    expect(rule(v, 'bitrate')).toBeUndefined();
  });
});

describe('parseFfprobe', () => {
  it('reads keyframe interval, bitrate, B-frames, rate and channels from packets', () => {
    const packets = [];
    for (let i = 0; i < 120; i++) {
      // decode order I P B B ...: pts goes back for B-frames
      const pts = i % 3 === 1 ? (i + 1) / 30 : i % 3 === 2 ? (i - 1) / 30 : i / 30;
      packets.push({ stream_index: 0, pts_time: pts.toFixed(6), size: '12500', flags: i % 30 === 0 ? 'K_' : '__' });
    }
    for (let i = 0; i < 190; i++) packets.push({ stream_index: 1, pts_time: (i * 0.021333).toFixed(6), size: '384', flags: 'K_' });
    const p = parseFfprobe({
      streams: [
        { index: 0, codec_type: 'video', codec_name: 'h264', profile: 'High', width: 1280, height: 720, avg_frame_rate: '30/1' },
        { index: 1, codec_type: 'audio', codec_name: 'aac', sample_rate: '48000', channels: 2 },
      ],
      packets,
    });
    expect(p.video).toMatchObject({ codec: 'h264', keyframes: 4, keyframeIntervalSec: 1, bFrames: true, fps: 30, width: 1280 });
    expect(p.video!.kbps!).toBeGreaterThan(2900);
    expect(p.video!.kbps!).toBeLessThan(3100);
    expect(p.audio).toMatchObject({ codec: 'aac', sampleRate: 48000, channels: 2 });
    expect(p.durationSec).toBeCloseTo(4.03, 1);
  });

  it('tolerates empty or odd output', () => {
    expect(parseFfprobe({})).toEqual({ durationSec: 0 });
    expect(parseFfprobe(null)).toEqual({ durationSec: 0 });
    expect(parseFfprobe({ streams: [{ index: 0, codec_type: 'video' }], packets: [{ stream_index: 0, pts_time: 'N/A' }] }).video?.keyframes).toBe(0);
  });
});

describe('ingestDoctorChecks', () => {
  it('one line per problem with the OBS setting; ok when ready; nothing for offline streams', () => {
    const bad = checkIngest('live', [h264, { ...aac48, sampleRate: 44100 }], probe({ keyframeIntervalSec: 4 }));
    const checks = ingestDoctorChecks({
      streams: [
        { name: 'live', ready: true, vrchat: bad },
        { name: 'ok', ready: true, vrchat: checkIngest('ok', [h264, aac48], probe()) },
        { name: 'off', ready: false },
      ],
    });
    expect(checks).toHaveLength(3);
    expect(checks[0]).toMatchObject({ level: 'warn', fix: `in OBS: ${OBS.keyframes}` });
    expect(checks.map((c) => c.what).join('\n')).toContain('44.1 kHz');
    expect(checks[2]).toMatchObject({ level: 'ok', what: 'stream "ok": VRChat-ready on PC and Quest' });
  });
});
