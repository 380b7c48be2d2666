/** Viewers and the origin's answers for the end-to-end tests: players in namespaces, API shapes. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Host, Topology } from './topology.js';

/** A routing decision as `GET /api/decisions` lists it (no viewer IP). */
export interface Decision {
  at: string;
  stream: string;
  node: string;
  mode: 'redirect' | 'splice';
  reason: string;
  decisionMs: number;
  city?: string;
  country?: string;
  distanceKm?: number;
  player?: string;
}

/** The parts of `GET /api/status` the tests read. */
export interface Status {
  state: string;
  streams: Array<{ name: string; ready: boolean; readers: number }>;
  nodes: Array<{ name: string; origin: boolean; health: string; viewers: number; region?: string }>;
}

/** Geo override entries of the origin's config. */
export type Places = Array<{ cidr: string; region: string; city: string }>;

/** The city name the origin's geo overrides give a viewer host: decisions carry it, never the IP. */
export const place = (hostName: string): string => `place-${hostName}`;

export interface Watched {
  code: number | null;
  stderr: string;
  /** Frames ffmpeg decoded. */
  frames: number;
  /** `host:port` the stream was finally read from (after any redirect). */
  servedBy: string | undefined;
}

/**
 * Play `url` with ffmpeg inside the viewer's namespace for `seconds` of stream (decoded, then
 * dropped). `servedBy` comes from ffmpeg's own summary of its input, which names the URL it
 * ended up reading after following redirects.
 */
export async function watch(t: Topology, viewer: Host, url: string, o: { seconds: number; userAgent?: string }): Promise<Watched> {
  const args = ['-nostdin', '-v', 'verbose', '-rtsp_transport', 'tcp'];
  if (o.userAgent) args.push('-user_agent', o.userAgent);
  args.push('-i', url, '-t', String(o.seconds), '-f', 'null', '-');
  const r = await t.exec(viewer, 'ffmpeg', args, 30_000);
  const input = /Input file #0 \((rtsp:\/\/[^)\s]+)\)/.exec(r.stderr)?.[1];
  const frames = [...r.stderr.matchAll(/(\d+) frames decoded/g)].reduce((n, m) => n + Number(m[1]), 0);
  return { code: r.code, stderr: r.stderr, frames, servedBy: input ? new URL(input).host : undefined };
}

/**
 * Probe `url` with ffprobe inside the viewer's namespace: the stream's codecs, and the `host:port`
 * it was read from (`format.filename` is the URL ffprobe ended up on after following redirects).
 */
export async function probe(t: Topology, viewer: Host, url: string, userAgent?: string): Promise<{ code: number | null; stderr: string; codecs: string[]; servedBy: string | undefined }> {
  const args = ['-v', 'error', '-rtsp_transport', 'tcp'];
  if (userAgent) args.push('-user_agent', userAgent);
  args.push('-show_entries', 'stream=codec_name:format=filename', '-of', 'json', url);
  const r = await t.exec(viewer, 'ffprobe', args, 30_000);
  let codecs: string[] = [];
  let servedBy: string | undefined;
  try {
    const out = JSON.parse(r.stdout) as { streams?: Array<{ codec_name?: string }>; format?: { filename?: string } };
    codecs = out.streams?.map((s) => s.codec_name ?? '?') ?? [];
    if (out.format?.filename) servedBy = new URL(out.format.filename).host;
  } catch {
    /* no JSON: the code and stderr tell why */
  }
  return { code: r.code, stderr: r.stderr, codecs, servedBy };
}

/** Masks the origin's secrets in text printed for diagnostics. */
export async function makeSecretsRedactor(originDir: string): Promise<(s: string) => string> {
  const raw = JSON.parse(await readFile(path.join(originDir, 'state', 'secrets.json'), 'utf8')) as Record<string, unknown>;
  const values = Object.values(raw)
    .filter((v): v is string => typeof v === 'string' && v.length >= 8)
    .flatMap((v) => [v, encodeURIComponent(v)]);
  return (s) => values.reduce((out, v) => out.split(v).join('***'), s);
}
