/**
 * Shared set-up for the MediaMTX integration tests: a plugin instance started the way core starts it
 * (parsed options, a SecretStore, an event bus, a logger whose output we keep), ffmpeg as publisher and
 * ffprobe as viewer. Every port comes from freePort(); every process is tracked and stopped.
 */
import { connect } from 'node:net';
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
  type ViewerTokenKey,
} from '@haven/core';
import type { AccessResult, MediaServerAccess } from '@haven/core/testing';
import { mediamtx, type MediamtxInstance, type MediamtxOptionsInput } from '@haven/plugin-mediamtx';
import { freePort, freeUdpPort, run, spawnTracked, type Spawned } from '../helpers/process.js';
import { GATEWAY_KEY, verifierKey } from '../helpers/token-key.js';
import { mediamtxBin, requireTool } from '../helpers/tools.js';

export const ffmpeg = () => requireTool('ffmpeg', 'apt-get install -y ffmpeg');
export const ffprobe = () => requireTool('ffprobe', 'apt-get install -y ffmpeg');

export { freeUdpPort };

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
  /** Extra top-level config (e.g. `name`, `public` of a node). */
  config?: Record<string, unknown>;
  /** This machine's token key. Default: its own, accepting the test gateways' key (`GATEWAY_KEY`). */
  tokenKey?: ViewerTokenKey;
}

/**
 * Starts a MediaMTX plugin instance on free loopback ports. A port picked free can be taken by a test
 * running beside this one before MediaMTX binds it: then it starts again on new ports (3 tries).
 */
export async function startMediamtx(opts: StartOptions = {}): Promise<Started> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      const portTaken = /address already in use/i.test((err as Error).message) && !opts.options?.rtspAddress;
      if (!portTaken || attempt >= 3) throw err;
    }
  }
}

async function startOnce(opts: StartOptions): Promise<Started> {
  const role = opts.role ?? 'origin';
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
  const config = havenConfigSchema.parse({ ...base, ...opts.config });
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
  const stateDir = await mkdtemp(path.join(tmpdir(), `haven-mtx-${role}-`));
  let instance: MediamtxInstance;
  try {
    instance = (await plugin.setup({
      options: plugin.schema.parse(plugin.options),
      config,
      role,
      stateDir,
      logger,
      events,
      secrets: store,
      tokenKey: opts.tokenKey ?? verifierKey(`mediamtx-${role}`, GATEWAY_KEY),
      provided: { probes: [] },
    })) as MediamtxInstance;
  } catch (err) {
    // A set-up that fails leaves no state folder behind either.
    await rm(stateDir, { recursive: true, force: true });
    throw err;
  }
  const stop = async () => {
    try {
      await instance.stop?.();
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
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

/**
 * One RTSP DESCRIBE (Basic, as MediaMTX speaks it) from `localAddress`; resolves the status code. 401/403
 * mean the credential did not pass; 200 or 404 (no publisher yet) mean it did.
 */
export function rtspDescribe(port: number, stream: string, user: string | undefined, pass: string | undefined, localAddress = '127.0.0.1', host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, localAddress });
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no RTSP answer from ${host}:${port} in 15 s`));
    }, 15_000);
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('connect', () => {
      const auth = user !== undefined ? `Authorization: Basic ${Buffer.from(`${user}:${pass ?? ''}`).toString('base64')}\r\n` : '';
      s.write(`DESCRIBE rtsp://${host}:${port}/${stream} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: haven-test\r\nAccept: application/sdp\r\n${auth}\r\n`);
    });
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const m = /^RTSP\/1\.0 (\d{3})/.exec(buf);
      if (m && buf.includes('\r\n\r\n')) {
        clearTimeout(timer);
        s.destroy();
        resolve(Number(m[1]));
      }
    });
  });
}

/** The MediaServer contract's access to a started MediaMTX plugin: real RTSP reads, real ffmpeg RTMP publishes. */
export function contractAccess(s: Started): MediaServerAccess {
  return {
    secrets: () => s.store.get(),
    async read(stream, password) {
      const status = await rtspDescribe(s.ports.rtsp, stream, password === undefined ? undefined : 'viewer', password);
      return status === 401 || status === 403 ? 'refused' : 'accepted';
    },
    async publish(stream, key) {
      if (!s.server.capabilities.protocols.rtmp) {
        // A node has no ingest listener; the same credential over RTSP ANNOUNCE is refused by the hook.
        const url = rtspUrl(s.ports.rtsp, stream, key === undefined ? undefined : 'publisher', key);
        const p = publishRtsp(url, 5);
        const code = await p.exited;
        return code === 0 ? 'accepted' : 'refused';
      }
      const p = publishRtmp(s.ports.rtmp, stream, key === undefined ? '' : `user=publisher&pass=${encodeURIComponent(key)}`, 20);
      const ready = (async () => {
        const until = Date.now() + 20_000;
        while (Date.now() < until) {
          if ((await s.server.stats(stream)).ready) return true;
          await new Promise((r) => setTimeout(r, 200));
        }
        return false;
      })();
      const outcome = await Promise.race([ready.then((r) => (r ? 'accepted' : 'refused') as AccessResult), p.exited.then(() => 'refused' as AccessResult)]);
      await p.stop();
      // Leave no publisher behind for the next check.
      const until = Date.now() + 15_000;
      while (Date.now() < until && (await s.server.stats(stream)).ready) await new Promise((r) => setTimeout(r, 200));
      return outcome;
    },
    async rotate(name) {
      const next = await s.store.rotate(name);
      await s.instance.onSecrets?.(next);
      return next;
    },
  };
}
