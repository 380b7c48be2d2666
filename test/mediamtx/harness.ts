/**
 * Shared set-up for the MediaMTX integration tests: a plugin instance started the way core starts it
 * (parsed options, a SecretStore, an event bus, a logger whose output we keep), ffmpeg as publisher and
 * ffprobe as viewer. Every port comes from freePort(); every process is tracked and stopped.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import {
  createLogger,
  HavenEmitter,
  havenConfigSchema,
  SecretRedactor,
  SecretStore,
  type HavenConfigInput,
  type HavenSecrets,
} from '@haven/core';
import { mediamtx, type MediamtxInstance, type MediamtxOptionsInput } from '@haven/plugin-mediamtx';
import { freePort, run, spawnTracked, type Spawned } from '../helpers/process.js';
import { mediamtxBin, requireTool } from '../helpers/tools.js';

export const ffmpeg = () => requireTool('ffmpeg', 'apt-get install -y ffmpeg');
export const ffprobe = () => requireTool('ffprobe', 'apt-get install -y ffmpeg');

/** A UDP port that was free a moment ago (SRT listens on UDP). */
export async function freeUdpPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    const sock = createSocket('udp4');
    try {
      sock.bind(port, '127.0.0.1');
      await once(sock, 'listening');
      return port;
    } catch {
      /* taken on UDP: try another */
    } finally {
      sock.close();
    }
  }
}

export const testSecrets = (): HavenSecrets => ({
  streamKey: 'StreamKey0123456789abcdefABCDEF01',
  viewerPassword: 'ViewerPass0123456789',
  relayPassword: 'RelayPass0123456789abcdefABCDEF0123456789',
});

export interface Started {
  instance: MediamtxInstance;
  server: MediamtxInstance['mediaServer'];
  events: HavenEmitter;
  store: SecretStore;
  stateDir: string;
  ports: { rtsp: number; rtmp: number; srt: number; hls: number; api: number };
  /** Everything logged so far (JSON lines). */
  logs(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  role?: 'origin' | 'node';
  options?: MediamtxOptionsInput;
  /** Use a SecretStore on disk (rotation persists) instead of fixed values. */
  store?: SecretStore;
  secrets?: HavenSecrets;
  streams?: string[];
}

export async function startMediamtx(opts: StartOptions = {}): Promise<Started> {
  const role = opts.role ?? 'origin';
  const stateDir = await mkdtemp(path.join(tmpdir(), `haven-mtx-${role}-`));
  const ports = { rtsp: await freePort(), rtmp: await freePort(), srt: await freeUdpPort(), hls: await freePort(), api: await freePort() };
  const redactor = new SecretRedactor();
  const store = opts.store ?? SecretStore.fromValues(opts.secrets ?? testSecrets(), redactor);
  for (const v of Object.values(store.get())) redactor.add(v);
  let logText = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logText += chunk.toString();
      if (logText.length > 2_000_000) logText = logText.slice(-1_000_000);
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', redactor, destination, name: `test-${role}` });
  const events = new HavenEmitter();
  const base: HavenConfigInput =
    role === 'origin'
      ? { role: 'origin', streams: (opts.streams ?? ['live']).map((name) => ({ name })) }
      : { role: 'node', region: 'eu-central', streams: (opts.streams ?? ['live']).map((name) => ({ name })) };
  const config = havenConfigSchema.parse(base);
  const plugin = mediamtx({
    binary: mediamtxBin(),
    rtspAddress: `127.0.0.1:${ports.rtsp}`,
    rtmpAddress: `127.0.0.1:${ports.rtmp}`,
    srtAddress: `127.0.0.1:${ports.srt}`,
    hlsAddress: `127.0.0.1:${ports.hls}`,
    apiAddress: `127.0.0.1:${ports.api}`,
    pollIntervalMs: 250,
    restartDelayMs: 200,
    stopGraceMs: 3000,
    ...opts.options,
  });
  const instance = (await plugin.setup({
    options: plugin.schema.parse(plugin.options),
    config,
    role,
    stateDir,
    logger,
    events,
    secrets: store,
    provided: { probes: [] },
  })) as MediamtxInstance;
  const stop = async () => {
    await instance.stop?.();
    await rm(stateDir, { recursive: true, force: true });
  };
  try {
    await instance.start?.();
  } catch (err) {
    await stop();
    throw err;
  }
  return { instance, server: instance.mediaServer, events, store, stateDir, ports, logs: () => logText, stop };
}

const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15', '-pix_fmt', 'yuv420p'];
const LAVFI = ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15'];

/** ffmpeg publishing a test pattern over RTMP for at most `seconds`. */
export function publishRtmp(port: number, stream: string, query: string, seconds = 40): Spawned {
  return spawnTracked(ffmpeg(), [...LAVFI, '-t', String(seconds), ...X264, '-f', 'flv', `rtmp://127.0.0.1:${port}/${stream}?${query}`]);
}

/** ffmpeg publishing a test pattern over SRT (MPEG-TS) for at most `seconds`. */
export function publishSrt(port: number, streamId: string, seconds = 40): Spawned {
  return spawnTracked(ffmpeg(), [...LAVFI, '-t', String(seconds), ...X264, '-f', 'mpegts', `srt://127.0.0.1:${port}?streamid=${streamId}&pkt_size=1316`]);
}

/** ffmpeg publishing over RTSP (ANNOUNCE/RECORD) for at most `seconds`. */
export function publishRtsp(url: string, seconds = 10): Spawned {
  return spawnTracked(ffmpeg(), [...LAVFI, '-t', String(seconds), ...X264, '-f', 'rtsp', '-rtsp_transport', 'tcp', url]);
}

export interface ProbeResult {
  code: number | null;
  streams: Array<{ codec_type?: string; codec_name?: string; width?: number; height?: number }>;
  stderr: string;
}

/** ffprobe reading an RTSP URL over TCP. */
export async function probeRtsp(url: string): Promise<ProbeResult> {
  const r = await run(ffprobe(), ['-v', 'error', '-rtsp_transport', 'tcp', '-show_streams', '-of', 'json', url], { timeoutMs: 30_000 });
  let streams: ProbeResult['streams'] = [];
  try {
    streams = (JSON.parse(r.stdout || '{}') as { streams?: ProbeResult['streams'] }).streams ?? [];
  } catch {
    streams = [];
  }
  return { code: r.code, streams, stderr: r.stderr };
}

export const rtspUrl = (port: number, stream: string, user?: string, pass?: string) =>
  `rtsp://${user !== undefined ? `${user}:${pass ?? ''}@` : ''}127.0.0.1:${port}/${stream}`;

export const hasVideo = (r: ProbeResult) => r.streams.some((s) => s.codec_type === 'video' && s.codec_name === 'h264');

export interface Refusal {
  ip: string;
  action: string;
  protocol: string;
  path: string;
  reason: string;
}

/** The auth hook's refusals, as logged by the plugin. */
export function refusals(logs: string): Refusal[] {
  return logs
    .split('\n')
    .filter((l) => l.includes('"auth refused"'))
    .map((l) => JSON.parse(l) as Refusal);
}
