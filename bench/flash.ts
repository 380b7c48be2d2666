/**
 * Glass-to-glass markers shared by the latency benchmarks: the publisher is fed raw frames by the
 * benchmark, now and then a white one whose send time is noted; a reader decodes to grey frames and
 * notes when it hands over a bright one. Latency = first bright frame at the reader − flash sent.
 */
import type { Readable } from 'node:stream';

/** A yuv420p frame: white (luma 235) or dark with `noise` (0..1) of random luma, for a realistic bitrate. */
export function yuvFrame(w: number, h: number, white: boolean, noise = 0): Buffer {
  const b = Buffer.alloc(w * h * 1.5, 128);
  b.fill(white ? 235 : 16, 0, w * h);
  if (!white && noise > 0) for (let i = 0; i < w * h; i++) if (Math.random() < noise) b[i] = 16 + Math.floor(Math.random() * 60);
  return b;
}

/** Watch a reader's raw grey frames (`w`x`h`, one byte per pixel): the wall times a bright frame begins. */
export function watchBright(stdout: Readable, w: number, h: number): { brightAt: number[]; frames: () => number } {
  const brightAt: number[] = [];
  let buf = Buffer.alloc(0);
  let n = 0;
  let wasBright = false;
  stdout.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= w * h) {
      const f = buf.subarray(0, w * h);
      buf = buf.subarray(w * h);
      n++;
      let sum = 0;
      for (let i = 0; i < f.length; i += 97) sum += f[i] as number;
      const bright = sum / Math.ceil(f.length / 97) > 128;
      if (bright && !wasBright) brightAt.push(Date.now());
      wasBright = bright;
    }
  });
  return { brightAt, frames: () => n };
}

/** The first time in `at` within `windowMs` after `t`, or undefined (a missed flash). */
export const firstAfter = (at: number[], t: number, windowMs: number): number | undefined => at.find((x) => x > t && x < t + windowMs);
