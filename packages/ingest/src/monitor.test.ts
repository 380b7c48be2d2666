import { describe, expect, it } from 'vitest';
import { HavenEmitter, type IngestTrack } from '@haven/core';
import type { IngestProbe } from './types.js';
import { createIngestMonitor } from './monitor.js';

const probe: IngestProbe = {
  durationSec: 6,
  video: { codec: 'h264', keyframes: 6, keyframeIntervalSec: 1, bFrames: false, kbps: 3000 },
  audio: { codec: 'opus', sampleRate: 48000, channels: 2, kbps: 96 },
};

function setup(tracks: IngestTrack[], fix = false) {
  const events = new HavenEmitter();
  const samples: string[] = [];
  const seen: string[] = [];
  const monitor = createIngestMonitor({
    events,
    settleMs: 1,
    tracks: async () => tracks,
    sampler: {
      async sample(stream) {
        samples.push(stream);
        return probe;
      },
    },
    audioFix: () => fix,
    onVerdict: (v) => seen.push(`${v.stream}:${v.level}`),
  });
  return { events, monitor, samples, seen };
}

const waitUntil = async (fn: () => boolean) => {
  for (let i = 0; i < 200 && !fn(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('ingest monitor', () => {
  it('checks on publisher:up, forgets on publisher:down, checks again on reconnect', async () => {
    const { events, monitor, samples, seen } = setup([{ codec: 'H264' }, { codec: 'Opus', channels: 2 }]);
    events.emit('publisher:up', { stream: 'live' });
    await waitUntil(() => seen.length === 1);
    expect(monitor.verdict('live')?.level).toBe('breaks');
    events.emit('publisher:down', { stream: 'live' });
    expect(monitor.verdict('live')).toBeUndefined();
    events.emit('publisher:up', { stream: 'live' });
    await waitUntil(() => seen.length === 2);
    expect(samples).toEqual(['live', 'live']);
    await monitor.stop();
    events.emit('publisher:up', { stream: 'live' });
    await new Promise((r) => setTimeout(r, 20));
    expect(samples).toHaveLength(2);
  });

  it('marks audio findings fixed while the media server re-encodes the audio', async () => {
    const { events, monitor, seen } = setup([{ codec: 'H264' }, { codec: 'Opus', channels: 2 }], true);
    events.emit('publisher:up', { stream: 'live' });
    await waitUntil(() => seen.length === 1);
    const v = monitor.verdict('live')!;
    expect(v.audioFixed).toBe(true);
    expect(v.findings.find((f) => f.rule === 'audio-codec')).toMatchObject({ level: 'breaks', fixedByHaven: true });
    await monitor.stop();
  });

  it('a sampler failure still gives a verdict from the track list', async () => {
    const events = new HavenEmitter();
    const monitor = createIngestMonitor({
      events,
      settleMs: 1,
      tracks: async () => [{ codec: 'H265' }, { codec: 'MPEG-4 Audio', sampleRate: 48000 }],
      sampler: { sample: async () => Promise.reject(new Error('no ffprobe')) },
    });
    const v = await monitor.check('live');
    expect(v?.level).toBe('breaks');
    expect(v?.facts.sampledSec).toBe(0);
    await monitor.stop();
  });
});
