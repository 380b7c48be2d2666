/**
 * The crowd's stream and its glass-to-glass samplers. ffmpeg publishes over RTMP, as OBS would, frames
 * this process feeds it: noise for a realistic 400 kbit/s H.264 (1 s keyframes) with AAC from a sine,
 * and now and then a white frame whose send time is noted (bench/flash.ts). A sampler is a real ffmpeg
 * in a viewer namespace decoding an entry URL to grey frames.
 */
import type { Host, Topology } from '../../test/e2e/topology.js';
import type { Spawned } from '../../test/helpers/process.js';
import { watchBright, yuvFrame } from '../flash.js';

export const W = 320;
export const H = 240;
export const FPS = 25;
export const KBPS = 400;
/** Decoded size of a sampler's grey frames. */
const SW = 80;
const SH = 60;

export interface Publisher {
  proc: Spawned;
  /** Send times of the flashes, epoch ms. */
  sent: number[];
  /** A white flash (4 frames) two frames from now. */
  flash(): void;
  stop(): Promise<void>;
}

export function publish(t: Topology, origin: Host, rtmpUrl: string): Publisher {
  const proc = t.h.spawn(
    origin.ns,
    'ffmpeg',
    [
      '-hide_banner', '-loglevel', 'error',
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-r', String(FPS), '-i', 'pipe:0',
      '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-map', '0:v', '-map', '1:a',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(FPS), '-pix_fmt', 'yuv420p',
      '-b:v', `${KBPS - 64}k`, '-maxrate', `${KBPS - 64}k`, '-bufsize', `${KBPS - 64}k`,
      '-c:a', 'aac', '-b:a', '64k', '-ar', '48000',
      '-f', 'flv', rtmpUrl,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const noise = Array.from({ length: FPS }, () => yuvFrame(W, H, false, 0.3));
  const white = yuvFrame(W, H, true);
  const sent: number[] = [];
  let n = 0;
  let flashAt = Number.POSITIVE_INFINITY;
  proc.child.stdin?.on('error', () => {});
  const pace = setInterval(() => {
    const isWhite = n >= flashAt && n < flashAt + 4;
    if (n === flashAt) sent.push(Date.now());
    proc.child.stdin?.write(isWhite ? white : (noise[n % noise.length] as Buffer));
    n++;
  }, 1000 / FPS);
  return {
    proc,
    sent,
    flash: () => {
      flashAt = n + 2;
    },
    stop: async () => {
      clearInterval(pace);
      proc.child.stdin?.end();
      await proc.stop('SIGTERM', 3000);
    },
  };
}

export interface Sampler {
  proc: Spawned;
  brightAt: number[];
  frames: () => number;
}

/** ffmpeg reading `url` from the viewer namespace (it follows the 302 itself), decoding every frame. */
export function sampler(t: Topology, viewer: Host, url: string): Sampler {
  const proc = t.h.spawn(viewer.ns, 'ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-fflags', 'nobuffer', '-flags', 'low_delay', '-rtsp_transport', 'tcp', '-i', url,
    '-map', '0:v', '-vf', `scale=${SW}:${SH}`, '-pix_fmt', 'gray', '-f', 'rawvideo', 'pipe:1',
  ]);
  return { proc, ...watchBright(proc.child.stdout!, SW, SH) };
}
