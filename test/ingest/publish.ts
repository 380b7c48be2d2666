/**
 * The publish cases of the VRChat ingest check: ffmpeg encodes lavfi test sources the way a
 * misconfigured OBS would, and sends them over SRT (MPEG-TS carries H.265 and Opus, which FLV/RTMP in
 * Debian's ffmpeg 5.1 does not).
 */
import { spawnTracked, type Spawned } from '../helpers/process.js';
import { requireTool } from '../helpers/tools.js';

export const ffmpegBin = () => requireTool('ffmpeg', 'apt-get install -y ffmpeg');
export const ffprobeBin = () => requireTool('ffprobe', 'apt-get install -y ffmpeg');

export interface PublishCase {
  name: string;
  video: string[];
  audio: string[];
  sampleRate: number;
}

const FPS = 30;
/** CBR H.264 at 1 s keyframes unless a case says otherwise; scene cuts off so the GOP is exact. */
const x264 = (kbps: number, gop: number) => [
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-profile:v', 'high',
  '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
  '-b:v', `${kbps}k`, '-minrate', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`, '-x264-params', 'nal-hrd=cbr',
];
const aac = (rate: number) => ['-c:a', 'aac', '-ar', String(rate), '-ac', '2', '-b:a', '128k'];

export const CASES = {
  fine: { name: 'H.264 + AAC 48 kHz, 1 s keyframes, 3 Mbit/s', video: x264(3000, FPS), audio: aac(48_000), sampleRate: 48_000 },
  opus: { name: 'Opus audio', video: x264(3000, FPS), audio: ['-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '128k'], sampleRate: 48_000 },
  rate44: { name: 'AAC at 44.1 kHz', video: x264(3000, FPS), audio: aac(44_100), sampleRate: 44_100 },
  gop4: { name: '4 s keyframes', video: x264(3000, FPS * 4), audio: aac(48_000), sampleRate: 48_000 },
  hevc: {
    name: 'HEVC (libx265)',
    video: ['-c:v', 'libx265', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-b:v', '3000k', '-x265-params', `keyint=${FPS}:min-keyint=${FPS}:scenecut=0:log-level=error`],
    audio: aac(48_000),
    sampleRate: 48_000,
  },
  low: { name: '300 kbit/s', video: x264(220, FPS), audio: ['-c:a', 'aac', '-ar', '48000', '-ac', '2', '-b:a', '64k'], sampleRate: 48_000 },
} satisfies Record<string, PublishCase>;

/** A moving test pattern with grain (so CBR is reached without filler), and a tone at the case's rate. */
function sources(c: PublishCase, extraVideoFilter?: string): string[] {
  const vf = `testsrc2=size=640x360:rate=${FPS},noise=alls=12:allf=t${extraVideoFilter ? `,${extraVideoFilter}` : ''}`;
  return ['-re', '-f', 'lavfi', '-i', vf, '-re', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${c.sampleRate}`];
}

/** Publish a case to an SRT URL (the one `haven urls` prints) for at most `seconds`. */
export function publishCase(c: PublishCase, srtUrl: string, seconds = 60, extraVideoFilter?: string): Spawned {
  return spawnTracked(ffmpegBin(), [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    ...sources(c, extraVideoFilter),
    '-t', String(seconds),
    '-map', '0:v', '-map', '1:a',
    ...c.video, ...c.audio,
    '-f', 'mpegts', srtUrl,
  ]);
}
