import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Locator, ViewerLocation } from '@haven/core';
import { freePort, run, spawnTracked, waitFor, type Spawned } from '../helpers/process.js';
import { mediamtxBin, requireTool } from '../helpers/tools.js';

export const VIEWER = { user: 'viewer', password: 'ViewerPass123456' };
export const PUBLISHER = { user: 'publisher', password: 'PublishKey123456' };
export const RELAY = { user: 'relay', password: 'RelayPass1234567' };

/** A locator over a fixed table (loopback addresses stand for places). */
export function tableLocator(table: Record<string, ViewerLocation>): Locator {
  return { name: 'table', capabilities: { ipv6: true, updates: false }, locate: (ip) => table[ip] };
}

export async function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface Mtx {
  rtspPort: number;
  hlsPort: number;
  apiPort: number;
  proc: Spawned;
  stop(): Promise<void>;
}

export interface MtxOptions {
  /** `internal` users (viewer read, anyone on loopback publishes) or an HTTP auth hook URL. */
  authHook?: string;
  /** Path `live` pulls from this RTSP URL (a relay node) instead of accepting a publisher. */
  source?: string;
  /** Path `live` answers DESCRIBE with MediaMTX's own 302 to this URL (`source: redirect`). */
  redirectTo?: string;
  hls?: boolean;
  trustProxies?: boolean;
  /** Address the RTSP/HLS listeners bind to. Default 127.0.0.1 (API stays on loopback). */
  host?: string;
}

/** A MediaMTX on loopback ports with a tiny config: RTSP over TCP only, unused servers off. */
export async function startMediamtx(o: MtxOptions = {}): Promise<Mtx> {
  const [rtspPort, hlsPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-gw-mtx-'));
  const auth = o.authHook
    ? { authMethod: 'http', authHTTPAddress: o.authHook, authHTTPExclude: [{ action: 'api' }] }
    : {
        authMethod: 'internal',
        authInternalUsers: [
          { user: 'any', pass: '', ips: ['127.0.0.1'], permissions: [{ action: 'publish' }, { action: 'api' }] },
          { user: VIEWER.user, pass: VIEWER.password, ips: [], permissions: [{ action: 'read' }] },
          { user: RELAY.user, pass: RELAY.password, ips: [], permissions: [{ action: 'read' }] },
        ],
      };
  const config = {
    logLevel: 'debug',
    rtspTransports: ['tcp'],
    rtspAddress: `${o.host ?? '127.0.0.1'}:${rtspPort}`,
    rtspTrustedProxies: o.trustProxies ? ['127.0.0.1'] : [],
    rtmp: false,
    srt: false,
    webrtc: false,
    moq: false,
    hls: o.hls ?? false,
    hlsAddress: `${o.host ?? '127.0.0.1'}:${hlsPort}`,
    hlsVariant: 'mpegts',
    hlsAlwaysRemux: true,
    hlsSegmentCount: 3,
    hlsSegmentDuration: '1s',
    hlsTrustedProxies: o.trustProxies ? ['127.0.0.1'] : [],
    api: true,
    apiAddress: `127.0.0.1:${apiPort}`,
    ...auth,
    paths: {
      live: o.redirectTo
        ? { source: 'redirect', sourceRedirect: o.redirectTo }
        : o.source
          ? { source: o.source, sourceOnDemand: false, rtspTransport: 'tcp' }
          : {},
    },
  };
  const file = path.join(dir, 'mediamtx.yml');
  writeFileSync(file, JSON.stringify(config));
  let proc: Spawned;
  try {
    proc = spawnTracked(mediamtxBin(), [file], { cwd: dir });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // The folder goes with the process, however it ends: `stop()`, `stopAll()` in an afterAll (what most
  // callers use), a kill in the test, or a failed start. Synchronous on 'exit', so it is gone by the time
  // `stopAll()` resolves.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  proc.child.once('exit', removeDir);
  proc.child.once('error', removeDir);
  try {
    await waitFor('MediaMTX RTSP port', async () => (await portOpen(rtspPort, o.host)) || (proc.child.exitCode !== null ? Promise.reject(new Error(proc.output())) : false), 15_000);
  } catch (err) {
    await proc.stop('SIGTERM', 3000);
    throw err;
  }
  return {
    rtspPort,
    hlsPort,
    apiPort,
    proc,
    stop: () => proc.stop('SIGTERM', 3000),
  };
}

/** ffmpeg pushing a small test pattern into MediaMTX over RTSP, bounded in time. */
export function startPublisher(url: string, seconds = 120): Spawned {
  const ffmpeg = requireTool('ffmpeg', 'apt-get install -y ffmpeg');
  return spawnTracked(ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15',
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15', '-pix_fmt', 'yuv420p',
    '-f', 'rtsp', '-rtsp_transport', 'tcp', url,
  ]);
}

/** ffprobe a URL; resolves with the exit code and the streams found. */
export async function ffprobe(url: string, extra: string[] = [], timeoutMs = 30_000): Promise<{ code: number | null; codecs: string[]; stderr: string }> {
  const bin = requireTool('ffprobe', 'apt-get install -y ffmpeg');
  const rtsp = url.startsWith('rtsp') ? ['-rtsp_transport', 'tcp'] : [];
  const r = await run(bin, ['-v', 'error', ...rtsp, ...extra, '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', '-i', url], { timeoutMs });
  return { code: r.code, codecs: r.stdout.split('\n').map((s) => s.trim()).filter(Boolean), stderr: r.stderr };
}

export interface AuthHook {
  url: string;
  requests: Array<{ ip: string; user: string; action: string; protocol: string; path: string }>;
  close(): Promise<void>;
}

/** The HTTP auth hook MediaMTX calls: viewers read with the viewer password, loopback publishes, relay reads. */
export async function startAuthHook(): Promise<AuthHook> {
  const requests: AuthHook['requests'] = [];
  const srv: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const r = JSON.parse(body || '{}') as { ip: string; user: string; password: string; action: string; protocol: string; path: string };
      requests.push({ ip: r.ip, user: r.user, action: r.action, protocol: r.protocol, path: r.path });
      const ok =
        (r.action === 'publish' && r.user === PUBLISHER.user && r.password === PUBLISHER.password) ||
        (r.action === 'read' && r.user === VIEWER.user && r.password === VIEWER.password) ||
        (r.action === 'read' && r.user === RELAY.user && r.password === RELAY.password);
      res.writeHead(ok ? 200 : 401).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${port}/auth`, requests, close: () => new Promise((r) => srv.close(() => r())) };
}

export async function mtxPathReady(apiPort: number, name = 'live'): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/v3/paths/get/${name}`).catch(() => undefined);
  if (!res || res.status !== 200) return false;
  const j = (await res.json()) as { ready?: boolean; tracks?: unknown[] };
  return j.ready === true && (j.tracks?.length ?? 0) > 0;
}

export async function mtxReaders(apiPort: number, name = 'live'): Promise<Array<{ type: string; id: string }>> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/v3/paths/get/${name}`);
  const j = (await res.json()) as { readers?: Array<{ type: string; id: string }> };
  return j.readers ?? [];
}

/**
 * gst-launch-1.0 with rtspsrc, retried (at most `attempts` times) only on the known rtspsrc/MediaMTX
 * failure: about one run in five against a bare MediaMTX v1.20.1 on loopback (no Haven, no auth, no
 * query), MediaMTX answers rtspsrc's SETUP after 1 s and closes the connection, or closes it before
 * rtspsrc's PAUSE at EOS; rtspsrc then exits 1 with "Could not send/receive message". Any other
 * failure is returned at once. Every attempt is returned, so a test can check each one.
 */
export async function gstreamerRtsp(args: string[], o: { attempts?: number; timeoutMs?: number; run?: (cmd: string, args: string[], timeoutMs: number) => Promise<{ code: number | null; stdout: string; stderr: string }> } = {}) {
  const gst = requireTool('gst-launch-1.0', 'apt-get install -y gstreamer1.0-tools gstreamer1.0-plugins-good');
  const exec = o.run ?? ((cmd: string, a: string[], timeoutMs: number) => run(cmd, a, { timeoutMs }));
  const tries: Array<{ code: number | null; stdout: string; stderr: string }> = [];
  for (let i = 0; i < (o.attempts ?? 3); i++) {
    const r = await exec(gst, args, o.timeoutMs ?? 40_000);
    tries.push(r);
    if (r.code === 0 || !/Could not (send|receive) message/.test(r.stderr + r.stdout)) break;
  }
  return { last: tries[tries.length - 1] as { code: number | null; stdout: string; stderr: string }, tries };
}
