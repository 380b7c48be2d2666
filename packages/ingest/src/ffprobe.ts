/**
 * The ingest sampler on ffprobe. Why ffprobe and not our own RTSP client: measuring keyframe interval,
 * frame rate and B-frames needs the H.264/H.265 bitstream parsed (SPS, slice types, reordering), and
 * AAC/Opus headers read; ffprobe does all of that, is already a dependency of the Haven's tools (the
 * audio fix runs ffmpeg), and reads exactly what a player reads from MediaMTX's RTSP server. Our own
 * RTSP client (gateway/probe) only speaks enough RTSP to route; teaching it codecs would duplicate
 * libavcodec badly.
 */
import { spawn } from 'node:child_process';
import { HavenError } from '@haven/core';
import type { IngestProbe } from './types.js';

export interface IngestSampler {
  /** Read the stream for a few seconds and say what it carries. */
  sample(stream: string, signal?: AbortSignal): Promise<IngestProbe>;
}

export interface FfprobeSamplerOptions {
  /** RTSP URL to read the stream from (loopback, internal credential). Never logged. */
  url(stream: string): string;
  /** Seconds of media to read. Default 6 (two keyframes even at a 2.5 s interval). */
  sampleSec?: number;
  /** ffprobe executable. Default `$FFPROBE_BIN`, then `ffprobe`. */
  binary?: string;
  /** Hard stop, ms. Default sampleSec * 1000 + 10000. */
  timeoutMs?: number;
}

interface RawStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  has_b_frames?: number;
}
interface RawPacket {
  stream_index: number;
  pts_time?: string;
  dts_time?: string;
  size?: string;
  flags?: string;
}

const num = (s: string | undefined): number | undefined => {
  if (s === undefined || s === 'N/A') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
};

function rate(s: string | undefined): number | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(s ?? '');
  if (!m || Number(m[2]) === 0) return undefined;
  const v = Number(m[1]) / Number(m[2]);
  return v > 0 ? v : undefined;
}

/** Turn ffprobe's `-show_streams -show_packets -of json` output into what the profile judges. Pure. */
export function parseFfprobe(json: unknown): IngestProbe {
  const o = (json ?? {}) as { streams?: RawStream[]; packets?: RawPacket[] };
  const streams = o.streams ?? [];
  const packets = o.packets ?? [];
  const vs = streams.find((s) => s.codec_type === 'video');
  const as = streams.find((s) => s.codec_type === 'audio');
  let first = Infinity;
  let last = -Infinity;
  for (const p of packets) {
    const t = num(p.pts_time) ?? num(p.dts_time);
    if (t === undefined) continue;
    first = Math.min(first, t);
    last = Math.max(last, t);
  }
  const durationSec = last > first ? last - first : 0;
  const kbpsOf = (bytes: number) => (durationSec > 0 ? (bytes * 8) / durationSec / 1000 : undefined);
  const out: IngestProbe = { durationSec };
  if (vs) {
    const vp = packets.filter((p) => p.stream_index === vs.index);
    const keys: number[] = [];
    let bytes = 0;
    let maxPts = -Infinity;
    let reordered = false;
    for (const p of vp) {
      bytes += num(p.size) ?? 0;
      const pts = num(p.pts_time);
      if (pts !== undefined) {
        if (pts < maxPts) reordered = true;
        maxPts = Math.max(maxPts, pts);
      }
      if (p.flags?.startsWith('K') && pts !== undefined) keys.push(pts);
    }
    keys.sort((a, b) => a - b);
    const video: NonNullable<IngestProbe['video']> = {
      codec: vs.codec_name ?? 'unknown',
      keyframes: keys.length,
      bFrames: reordered || (vs.has_b_frames ?? 0) > 0,
    };
    if (keys.length >= 2) video.keyframeIntervalSec = (keys[keys.length - 1]! - keys[0]!) / (keys.length - 1);
    if (vs.width) video.width = vs.width;
    if (vs.height) video.height = vs.height;
    if (vs.profile) video.profile = vs.profile;
    const fps = rate(vs.avg_frame_rate) ?? rate(vs.r_frame_rate);
    if (fps !== undefined && fps < 1000) video.fps = fps;
    const k = kbpsOf(bytes);
    if (k !== undefined) video.kbps = k;
    out.video = video;
  }
  if (as) {
    const bytes = packets.filter((p) => p.stream_index === as.index).reduce((n, p) => n + (num(p.size) ?? 0), 0);
    const audio: NonNullable<IngestProbe['audio']> = { codec: as.codec_name ?? 'unknown' };
    const sr = num(as.sample_rate);
    if (sr) audio.sampleRate = sr;
    if (as.channels) audio.channels = as.channels;
    const k = kbpsOf(bytes);
    if (k !== undefined) audio.kbps = k;
    out.audio = audio;
  }
  return out;
}

/** The argv of one sample (the URL last; it carries a credential, so argv is never logged). */
export function ffprobeArgs(url: string, sampleSec: number): string[] {
  return [
    '-v', 'error',
    '-rtsp_transport', 'tcp',
    // Socket I/O timeout in microseconds (ffmpeg >= 5 names it `timeout` for RTSP).
    '-timeout', '5000000',
    '-read_intervals', `%+${sampleSec}`,
    '-show_entries',
    'packet=stream_index,pts_time,dts_time,size,flags:stream=index,codec_type,codec_name,profile,width,height,avg_frame_rate,r_frame_rate,sample_rate,channels,has_b_frames',
    '-of', 'json',
    url,
  ];
}

/** Samples a stream with ffprobe reading MediaMTX's RTSP listener on loopback. */
export function ffprobeSampler(options: FfprobeSamplerOptions): IngestSampler {
  const sampleSec = options.sampleSec ?? 6;
  const binary = options.binary ?? process.env.FFPROBE_BIN ?? 'ffprobe';
  const timeoutMs = options.timeoutMs ?? sampleSec * 1000 + 10_000;
  return {
    sample(stream, signal) {
      return new Promise<IngestProbe>((resolve, reject) => {
        const child = spawn(binary, ffprobeArgs(options.url(stream), sampleSec), { stdio: ['ignore', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        let err = '';
        let size = 0;
        child.stdout.on('data', (b: Buffer) => {
          size += b.length;
          if (size < 64 * 1024 * 1024) out.push(b);
        });
        child.stderr.on('data', (b: Buffer) => {
          if (err.length < 4096) err += b.toString();
        });
        const kill = () => child.kill('SIGKILL');
        const timer = setTimeout(kill, timeoutMs);
        signal?.addEventListener('abort', kill, { once: true });
        const fail = (message: string, cause?: unknown) =>
          reject(new HavenError(message, { code: 'INGEST_SAMPLE_FAILED', plugin: 'ingest', ...(cause ? { cause } : {}) }));
        child.once('error', (e: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          fail(e.code === 'ENOENT' ? `ffprobe ("${binary}") is not installed: install ffmpeg (apt-get install ffmpeg) or set FFPROBE_BIN` : `ffprobe could not run: ${e.message}`, e);
        });
        child.once('close', (code) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', kill);
          if (signal?.aborted) return fail(`sampling "${stream}" was cancelled`);
          // Credentials never appear in ffprobe's error lines, but strip any URL userinfo anyway.
          const said = err.replace(/\/\/[^@\s/]*@/g, '//').trim().split('\n').slice(-2).join(' | ');
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(out).toString('utf8') || '{}');
          } catch (e) {
            return fail(`ffprobe gave unreadable output for "${stream}" (exit ${code})${said ? `: ${said}` : ''}`, e);
          }
          const probe = parseFfprobe(json);
          if (!probe.video && !probe.audio) return fail(`ffprobe read no track of "${stream}" (exit ${code})${said ? `: ${said}` : ''}`);
          resolve(probe);
        });
      });
    },
  };
}
