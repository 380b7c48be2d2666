/**
 * The crowd's light reader: many viewers in one Node process (run inside a viewer namespace), each
 * one a player emulator (test/helpers/rtsp-players.ts) that keeps reading after PLAY and counts RTP.
 * PC readers follow the 302 on a new connection (MS-RTSP), Quest readers on the same connection
 * (media3), FFmpeg readers like the PC's with FFmpeg's User-Agent. A world player's behaviour on
 * failure: 5 s later it opens the next entry of its list.
 *
 * "Real" video is told from MediaMTX's offline segment by the H.264 SPS: the first SPS a reader sees
 * is the stream's (new reads are refused while a node shows the offline segment); a packet counts
 * while the last SPS seen is that one. Events go to stdout as JSON lines (bench/crowd/events.ts).
 *   ip netns exec <ns> node --import tsx bench/crowd/reader.ts '<json ReaderParams>'
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { playMedia3, playMsRtsp, type PlayOptions, type PlayResult } from '../../test/helpers/rtsp-players.js';
import type { RtspWire } from '../../test/helpers/rtsp-wire.js';
import type { ReaderEvent, ReaderParams, ReaderSpec } from './events.js';

/** A world player's pause before it opens the next URL of its list. */
const RETRY_MS = 5000;
/** A stretch without real video longer than this is reported as a gap. */
const GAP_MS = 700;

/** Each player's keep-alive while playing (see `PlayOptions.keepAlive` for the sources). */
const KEEP_ALIVE: Record<ReaderSpec['kind'], NonNullable<PlayOptions['keepAlive']>> = {
  pc: { method: 'GET_PARAMETER', every: 1 },
  quest: { method: 'OPTIONS', every: 1 / 2 },
  ffmpeg: { method: 'GET_PARAMETER', every: 1 / 2 },
};

const UA: Record<ReaderSpec['kind'], string> = {
  pc: 'Microsoft-Windows/10.0 UPnP/1.0',
  quest: 'AndroidXMedia3/1.5.1',
  ffmpeg: 'Lavf/60.16.100',
};

let stopping = false;
const open = new Set<RtspWire>();

/** Where each reader's current attempt is (reported on SIGUSR2: the attempts that neither play nor fail). */
interface Where {
  entry: string;
  stage: string;
  host: string;
  since: number;
  wire?: RtspWire;
  offline: boolean;
  lastReal?: number;
  video: number;
}
const where = new Map<number, Where>();

/** This process's longest event-loop stall over the last one or two 5 s windows, ms. */
const loop = monitorEventLoopDelay({ resolution: 20 });
loop.enable();
let lastWindowMaxMs = 0;
setInterval(() => {
  lastWindowMaxMs = loop.max / 1e6;
  loop.reset();
}, 5000).unref();
const lagMs = () => Math.round(Math.max(lastWindowMaxMs, loop.max / 1e6));

function report(): void {
  const now = Date.now();
  for (const [id, w] of where) {
    const quiet = w.wire?.lastFrameAt;
    emit({
      id,
      ev: 'open',
      at: now,
      entry: w.entry,
      stage: w.stage,
      host: w.host,
      since: w.since,
      packets: w.wire?.rtp ?? 0,
      video: w.video,
      offline: w.offline,
      lagMs: lagMs(),
      ...(quiet !== undefined ? { quietMs: now - quiet } : {}),
      ...(w.lastReal !== undefined ? { realAgoMs: now - w.lastReal } : {}),
    });
  }
}

function emit(e: ReaderEvent): void {
  process.stdout.write(`${JSON.stringify(e)}\n`);
}

/** The SPS NAL units (type 7) in one H.264 RTP payload (single NAL or STAP-A), as hex. */
function spsOf(rtp: Buffer): string | undefined {
  if (rtp.length < 13) return undefined;
  const cc = (rtp[0] as number) & 0x0f;
  let off = 12 + cc * 4;
  if ((rtp[0] as number) & 0x10) {
    if (rtp.length < off + 4) return undefined;
    off += 4 + rtp.readUInt16BE(off + 2) * 4;
  }
  const type = (rtp[off] as number) & 0x1f;
  if (type === 7) return rtp.subarray(off).toString('hex');
  if (type !== 24) return undefined;
  for (let i = off + 1; i + 2 < rtp.length; ) {
    const len = rtp.readUInt16BE(i);
    if (((rtp[i + 2] as number) & 0x1f) === 7) return rtp.subarray(i + 2, i + 2 + len).toString('hex');
    i += 2 + len;
  }
  return undefined;
}

/** One reader's life: arrive, play, and on every failure wait 5 s and try the next URL of its list. */
async function life(spec: ReaderSpec, t0: number): Promise<void> {
  await new Promise((r) => setTimeout(r, Math.max(0, t0 + spec.startMs - Date.now())));
  let streamSps: string | undefined;
  for (let attempt = 0; !stopping; attempt++) {
    const url = spec.urls[attempt % spec.urls.length] as string;
    const entry = new URL(url.replace(/^rtspt:/, 'rtsp:')).hostname;
    emit({ id: spec.id, ev: 'attempt', at: Date.now(), entry });
    const w: Where = { entry, stage: 'start', host: entry, since: Date.now(), offline: false, video: 0 };
    where.set(spec.id, w);
    let playing = false;
    let lastReal = 0;
    let current: string | undefined;
    const hold = async (wire: RtspWire, sofar: PlayResult): Promise<void> => {
      open.add(wire);
      w.wire = wire;
      const video = sofar.setupTracks.findIndex((t) => t.media === 'video');
      wire.onFrame = (channel, frame) => {
        if (channel !== 2 * video) return;
        w.video++;
        const sps = spsOf(frame);
        if (sps) {
          current = sps;
          streamSps ??= sps;
          w.offline = current !== streamSps;
        }
        if (current === undefined || current !== streamSps) return;
        const now = Date.now();
        w.lastReal = now;
        if (!playing) {
          playing = true;
          emit({ id: spec.id, ev: 'play', at: now, entry, host: wire.host, hops: sofar.hops.map((h) => h.host) });
        } else if (now - lastReal > GAP_MS) emit({ id: spec.id, ev: 'gap', at: now, from: lastReal });
        lastReal = now;
      };
      await wire.whenClosed();
      open.delete(wire);
    };
    const onStage = (stage: string, host: string) => {
      Object.assign(w, { stage, host, since: Date.now() });
      if (stage === 'redirect') emit({ id: spec.id, ev: 'redirected', at: w.since, to: host });
    };
    const o: PlayOptions = { url, userAgent: UA[spec.kind], localAddress: spec.localAddress, hold, onStage, keepAlive: KEEP_ALIVE[spec.kind] };
    let r: PlayResult;
    try {
      r = spec.kind === 'quest' ? await playMedia3(o) : await playMsRtsp(o);
    } catch (err) {
      r = { played: false, packets: 0, challenges: 0, hops: [], statuses: [], schemes: [], tracks: [], setupTracks: [], error: (err as Error).message };
    }
    if (stopping) return;
    const hops = r.hops.map((h) => h.host);
    const now = Date.now();
    if (playing) emit({ id: spec.id, ev: 'lost', at: now, lastReal, cause: w.wire?.closeCause ?? '?', offline: w.offline, quietMs: now - (w.wire?.lastFrameAt ?? now), lagMs: lagMs() });
    else emit({ id: spec.id, ev: 'fail', at: now, entry, hops, stage: w.stage, error: (r.error ?? `closed (${w.wire?.closeCause ?? '?'}) after ${r.packets} packets, no stream video`).slice(0, 120) });
    Object.assign(w, { stage: 'retry-wait', since: now, wire: undefined, offline: false, video: 0 });
    await new Promise((res) => setTimeout(res, RETRY_MS));
  }
}

async function main(): Promise<void> {
  const p = JSON.parse(process.argv[2] as string) as ReaderParams;
  const stop = () => {
    stopping = true;
    for (const w of open) w.close();
    // Readers still waiting to arrive or to retry have nothing to close.
    setTimeout(() => process.exit(0), 300);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGUSR2', report);
  const deadline = setTimeout(stop, Math.max(0, p.untilMs - Date.now()));
  deadline.unref();
  await Promise.all(p.readers.map((s) => life(s, p.t0)));
  process.exit(0);
}

void main();
