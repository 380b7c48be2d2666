/**
 * The audio fix across the relay tree: Opus published to the origin's ingest path comes out of a node
 * as AAC 48 kHz with the original H.264; an MS-RTSP-like player SETUPs both tracks. Then the latency
 * from publish to a node reader, fixed against the same stream published without the fix, and the
 * CPU the fix's ffmpeg costs. Origin and node are MediaMTX plugin instances on loopback (loopback
 * stands in for the VPN, as in test/mediamtx/relay.test.ts).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, spawnTracked, stopAll, waitFor, type Spawned } from '../helpers/process.js';
import { rtspUrl, startMediamtx, testSecrets, type Started } from '../mediamtx/harness.js';
import { playMsRtsp } from '../helpers/rtsp-players.js';
import { ffmpegBin, ffprobeBin } from './publish.js';

const S = testSecrets();
const STREAMS = ['fixed', 'direct'];
/** The picture turns white for the first 2 s of every 4 s: a black→white edge every 4 s of media time. */
const PERIOD = 4;

let origin: Started;
let node: Started;
const pubs = new Map<string, { proc: Spawned; anchor: number }>();

/** Opus + H.264 over SRT, with `-progress` so the wall time of each media time is known. */
function publish(streamId: string, key: string): void {
  const proc = spawnTracked(ffmpegBin(), [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-progress', 'pipe:1', '-stats_period', '0.2',
    '-re', '-f', 'lavfi', '-i', `color=c=black:s=320x240:r=30,drawbox=c=white:t=fill:enable='lt(mod(t,${PERIOD}),2)'`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '90', '-map', '0:v', '-map', '1:a',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p',
    '-c:a', 'libopus', '-b:a', '96k',
    '-f', 'mpegts', `srt://127.0.0.1:${origin.ports.srt}?streamid=publish:${streamId}:publisher:${S.streamKey}&pkt_size=1316`,
  ]);
  const entry = { proc, anchor: Infinity };
  pubs.set(key, entry);
  let buf = '';
  proc.child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let m: RegExpExecArray | null;
    const re = /out_time_us=(\d+)/g;
    while ((m = re.exec(buf))) entry.anchor = Math.min(entry.anchor, Date.now() - Number(m[1]) / 1000);
    buf = buf.slice(buf.lastIndexOf('\n') + 1);
  });
}

/** A reader on the node; resolves each black→white edge's latency (ms) against the publisher's clock. */
function readEdges(stream: string, seconds: number): Promise<number[]> {
  const reader = spawnTracked(ffmpegBin(), [
    '-hide_banner', '-nostdin', '-loglevel', 'info', '-rtsp_transport', 'tcp', '-fflags', 'nobuffer', '-flags', 'low_delay',
    '-i', rtspUrl(node.ports.rtsp, stream, 'viewer', S.viewerPassword),
    '-t', String(seconds), '-an', '-vf', 'blackdetect=d=0.05:pix_th=0.10', '-f', 'null', '-',
  ]);
  const out: number[] = [];
  let buf = '';
  reader.child.stderr?.on('data', (d: Buffer) => {
    const now = Date.now();
    buf += d.toString();
    const lines = buf.split(/\r|\n/);
    buf = lines.pop() ?? '';
    for (const l of lines) {
      if (!/black_end:/.test(l)) continue;
      const media = (now - pubs.get(stream)!.anchor) / 1000;
      const edge = Math.floor(media / PERIOD) * PERIOD;
      out.push(now - (pubs.get(stream)!.anchor + edge * 1000));
    }
  });
  return new Promise((resolve) => reader.child.once('exit', () => resolve(out)));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
}

beforeAll(async () => {
  origin = await startMediamtx({ role: 'origin', streams: STREAMS, options: { relaySubnets: ['127.0.0.1/32'] } });
  node = await startMediamtx({ role: 'node', streams: STREAMS, options: { originRelay: { host: '127.0.0.1', port: origin.ports.rtsp } } });
  publish('ingest/fixed', 'fixed');
  publish('direct', 'direct');
  for (const s of STREAMS) await waitFor(`node serving ${s}`, async () => (await node.server.stats(s)).ready || undefined, 60_000, 250);
}, 120_000);

afterAll(async () => {
  await stopAll();
  await node?.stop();
  await origin?.stop();
});

describe('audio fix: Opus in, AAC 48 kHz out of every node', () => {
  it('a reader (ffprobe) on the node sees AAC 48 kHz and the original H.264; the unfixed stream still has Opus', async () => {
    type Stream = { codec_type: string; codec_name: string; sample_rate?: string; profile?: string; level?: number; width?: number; height?: number; pix_fmt?: string };
    const probeUrl = async (url: string) => {
      const r = await run(ffprobeBin(), ['-v', 'error', '-rtsp_transport', 'tcp', '-show_streams', '-of', 'json', url], { timeoutMs: 30_000 });
      return (JSON.parse(r.stdout || '{}') as { streams?: Stream[] }).streams ?? [];
    };
    const probe = (s: string) => probeUrl(rtspUrl(node.ports.rtsp, s, 'viewer', S.viewerPassword));
    const fixed = await probe('fixed');
    console.log(`[audio-fix] node reader sees: ${JSON.stringify(fixed.map((s) => ({ type: s.codec_type, codec: s.codec_name, rate: s.sample_rate, profile: s.profile, width: s.width })))}`);
    expect(fixed.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 320 });
    expect(fixed.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', sample_rate: '48000' });
    const direct = await probe('direct');
    expect(direct.find((s) => s.codec_type === 'audio')?.codec_name).toBe('opus');
    // The H.264 served is the one published (copied, not re-encoded): same parameters as the ingest's.
    const ingest = await probeUrl(origin.server.publishedReadUrl('fixed'));
    const pick = (x: Stream | undefined) => x && { codec: x.codec_name, profile: x.profile, level: x.level, width: x.width, height: x.height, pix_fmt: x.pix_fmt };
    expect(pick(fixed.find((x) => x.codec_type === 'video'))).toEqual(pick(ingest.find((x) => x.codec_type === 'video')));
    expect(ingest.find((x) => x.codec_type === 'audio')?.codec_name).toBe('opus');
    expect(origin.server.audioFixed('fixed')).toBe(true);
    expect(origin.server.audioFixed('direct')).toBe(false);
  });

  it('an MS-RTSP-like player SETUPs both tracks on the fixed stream, only the video on the unfixed one', async () => {
    const player = { userAgent: 'NSPlayer/12.00.19041.5072 WMFSDK/12.00.19041.5072' };
    const fixed = await playMsRtsp({ ...player, url: rtspUrl(node.ports.rtsp, 'fixed', 'viewer', S.viewerPassword) });
    console.log(`[audio-fix] SDP tracks (fixed): ${fixed.tracks.map((t) => `${t.media} ${t.rtpmap}`).join(', ')}`);
    expect(fixed.error).toBeUndefined();
    expect(fixed.played).toBe(true);
    expect(fixed.setupTracks.map((t) => t.media)).toEqual(['video', 'audio']);
    expect(fixed.setupTracks[1]!.rtpmap).toMatch(/^MPEG4-GENERIC\/48000\/2$/i);
    const direct = await playMsRtsp({ ...player, url: rtspUrl(node.ports.rtsp, 'direct', 'viewer', S.viewerPassword) });
    expect(direct.tracks.map((t) => t.media)).toEqual(['video', 'audio']);
    expect(direct.setupTracks.map((t) => t.media)).toEqual(['video']);
  });

  it('prints the latency it adds (publish → node reader) and the CPU its ffmpeg costs', async () => {
    const ffPid = (await origin.server.status()).audioFix as Record<string, { pid?: number }>;
    const pid = ffPid.fixed?.pid;
    const mtxPid = origin.server.pid;
    expect(pid).toBeGreaterThan(0);
    const t0 = Date.now();
    const c0 = cpuMs(pid!);
    const m0 = cpuMs(mtxPid!);
    const [fixed, direct] = await Promise.all([readEdges('fixed', 22), readEdges('direct', 22)]);
    const wall = Date.now() - t0;
    const ffCpu = ((cpuMs(pid!) - c0) / wall) * 100;
    const mtxCpu = ((cpuMs(mtxPid!) - m0) / wall) * 100;
    // The first edges can fall in the readers' start-up; both lists come from the same period.
    const f = fixed.slice(1);
    const d = direct.slice(1);
    expect(f.length).toBeGreaterThanOrEqual(2);
    expect(d.length).toBeGreaterThanOrEqual(2);
    const mf = median(f);
    const md = median(d);
    console.log(
      `[audio-fix] latency publish→node reader, median of ${f.length}/${d.length} edges: with the fix ${Math.round(mf)} ms, without ${Math.round(md)} ms; ` +
        `added ${Math.round(mf - md)} ms (ratio ${(mf / md).toFixed(2)}x). Edges (ms): fixed ${f.map(Math.round).join(' ')}, direct ${d.map(Math.round).join(' ')}`,
    );
    console.log(
      `[audio-fix] CPU over ${Math.round(wall / 1000)} s: the fix's ffmpeg (Opus→AAC 48 kHz, video copied) ${ffCpu.toFixed(1)}% of one core; ` +
        `MediaMTX (origin, both streams and relays) ${mtxCpu.toFixed(1)}%; ratio ${(ffCpu / Math.max(0.1, mtxCpu)).toFixed(2)}x`,
    );
    // Sanity, not timing: every edge arrived (a reader that never saw the picture change gives none).
    expect(Number.isFinite(mf) && Number.isFinite(md)).toBe(true);
  }, 90_000);

  it("the password in the fix's ffmpeg argv (readable by local users) opens no Control API; the plugin's own API client still works", async () => {
    const pid = ((await origin.server.status()).audioFix as Record<string, { pid?: number }>).fixed?.pid;
    expect(pid).toBeGreaterThan(0);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const input = new URL(argv.find((a) => a.startsWith('rtsp://haven-internal:'))!);
    const basic = (password: string) => `Basic ${Buffer.from(`haven-internal:${password}`).toString('base64')}`;
    const api = `http://127.0.0.1:${origin.ports.api}/v3/paths/list`;
    expect((await fetch(api, { headers: { authorization: basic(decodeURIComponent(input.password)) } })).status).toBe(401);
    expect((await origin.server.api.listPaths()).items.length).toBeGreaterThan(0);
  });

  it('never logs the internal credential', async () => {
    const status = (await origin.server.status()) as Record<string, unknown>;
    expect(JSON.stringify(status)).not.toMatch(/haven-internal:/);
    expect(origin.logs()).not.toMatch(/haven-internal:[^@\s"]+@/);
    for (const v of Object.values(S)) expect(origin.logs()).not.toContain(v);
  });
});
