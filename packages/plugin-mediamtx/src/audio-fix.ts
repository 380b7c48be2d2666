/**
 * The audio fix: VRChat PC plays only AAC or LPCM audio at 48 kHz. When OBS sends something else, the
 * origin republishes the stream with the video copied and the audio re-encoded to AAC 48 kHz, so every
 * node relays a stream VRChat plays whole.
 *
 * Shape: the publisher sends to `ingest/<stream>`; one ffmpeg per live stream reads it over loopback
 * RTSP (internal credential) and publishes `<stream>`, which viewers, the gateway's splice and the
 * nodes read as before. When the audio already plays, ffmpeg copies it too (`-c copy`: a remux, no
 * decoding), so the viewer-facing path is the same either way. It lives in the MediaMTX plugin because
 * it is MediaMTX's paths, auth hook and Control API it works with, and it reuses MediaMTX's supervisor.
 */
import { toHavenError, type HavenEmitter, type IngestTrack, type Logger } from '@haven/core';
import { audioNeedsFix } from '@haven/ingest';
import type { MediaMtxApi } from './api.js';
import type { MtxPath } from './api-schemas.js';
import { PLUGIN_NAME } from './errors.js';
import type { MediamtxOptions } from './options.js';
import { Supervisor } from './supervisor.js';

export const INGEST_PREFIX = 'ingest/';

/** The path OBS publishes to when the audio fix is on. */
export function ingestPath(stream: string): string {
  return `${INGEST_PREFIX}${stream}`;
}

/** Extra MediaMTX paths of an origin with the audio fix on (one ingest path per stream). */
export function renderIngestPaths(input: { role: string; options: Pick<MediamtxOptions, 'audioFix'>; streams: ReadonlyArray<{ name: string }> }): Record<string, Record<string, unknown>> {
  if (input.role !== 'origin' || input.options.audioFix === 'off') return {};
  return Object.fromEntries(input.streams.map((s) => [ingestPath(s.name), { source: 'publisher' }]));
}

/** MediaMTX's `tracks2` as the ingest check's tracks. */
export function ingestTracks(p: MtxPath | undefined): IngestTrack[] {
  if (!p) return [];
  if (!p.tracks2) return (p.tracks ?? []).map((codec) => ({ codec }));
  return p.tracks2.map((t) => {
    const props = (t.codecProps ?? {}) as Record<string, unknown>;
    const n = (k: string) => (typeof props[k] === 'number' ? (props[k] as number) : undefined);
    const track: IngestTrack = { codec: t.codec };
    const width = n('width');
    const height = n('height');
    const sampleRate = n('sampleRate');
    const channels = n('channelCount');
    if (width) track.width = width;
    if (height) track.height = height;
    if (typeof props.profile === 'string') track.profile = props.profile;
    if (sampleRate) track.sampleRate = sampleRate;
    if (channels) track.channels = channels;
    return track;
  });
}

/** ffmpeg's argv: read the ingest path, copy video, copy or re-encode audio, publish the stream. */
export function audioFixArgs(input: string, output: string, audio: IngestTrack | undefined): string[] {
  const fix = audioNeedsFix(audio);
  const audioArgs = !audio
    ? []
    : fix
      ? ['-c:a', 'aac', '-ar', '48000', ...((audio.channels ?? 2) > 6 ? ['-ac', '2'] : []), '-b:a', '160k']
      : ['-c:a', 'copy'];
  return [
    '-hide_banner', '-loglevel', 'warning', '-nostdin',
    '-rtsp_transport', 'tcp', '-timeout', '5000000',
    // Start fast: MediaMTX's SDP already names every track; do not wait seconds to probe.
    '-fflags', 'nobuffer', '-analyzeduration', '500000', '-probesize', '500000',
    '-i', input,
    '-map', '0:v?', '-map', '0:a?',
    '-c:v', 'copy', ...audioArgs,
    '-f', 'rtsp', '-rtsp_transport', 'tcp', output,
  ];
}

export interface AudioFixOptions {
  api: Pick<MediaMtxApi, 'listPaths' | 'getPath'>;
  binary: string;
  streams(): string[];
  /** Internal RTSP URL of a path (never logged). */
  url(path: string): string;
  /** Poll only while MediaMTX runs. */
  active(): boolean;
  pollIntervalMs: number;
  logger: Logger;
  events?: HavenEmitter;
  sanitize(line: string): string;
}

interface Job {
  supervisor: Supervisor;
  mode: 'copy' | 'aac';
  started: Promise<void>;
}

/** One supervised ffmpeg per stream whose ingest path has a publisher. */
export class AudioFix {
  readonly #o: AudioFixOptions;
  readonly #jobs = new Map<string, Job>();
  /** Bytes each ingest path had received at the last poll. */
  readonly #bytes = new Map<string, number>();
  readonly #starting = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #closed = false;

  constructor(options: AudioFixOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => void this.poll(), this.#o.pollIntervalMs);
    this.#timer.unref();
  }

  /**
   * Match the jobs to the ingest paths: a job for each ingest path that is ready *and receiving*
   * (its byte count grew since the last poll: a publisher killed without closing its session stays
   * "ready" in MediaMTX until it times out, and ffmpeg must not attach to that), none for the others.
   */
  async poll(): Promise<void> {
    if (this.#busy || this.#closed || !this.#o.active()) return;
    this.#busy = true;
    try {
      const list = await this.#o.api.listPaths();
      const byName = new Map(list.items.map((p) => [p.name, p]));
      const wanted = new Set(this.#o.streams());
      for (const stream of wanted) {
        const p = byName.get(ingestPath(stream));
        const bytes = p?.inboundBytes ?? p?.bytesReceived ?? 0;
        const before = this.#bytes.get(stream);
        this.#bytes.set(stream, bytes);
        const receiving = (p?.available ?? p?.ready ?? false) === true && before !== undefined && bytes > before;
        const ready = (p?.available ?? p?.ready ?? false) === true;
        if (receiving && !this.#jobs.has(stream)) void this.#start(stream);
        else if (!ready && this.#jobs.has(stream)) void this.#stop(stream);
      }
      for (const stream of [...this.#jobs.keys()]) if (!wanted.has(stream)) void this.#stop(stream);
    } catch {
      /* MediaMTX restarting: next poll */
    } finally {
      this.#busy = false;
    }
  }

  /** `aac` while the stream's audio is being re-encoded, `copy` while remuxed, undefined when idle. */
  mode(stream: string): 'copy' | 'aac' | undefined {
    return this.#jobs.get(stream)?.mode;
  }

  /** How the publisher of a stream sends: while it is republished, the ingest path's source; else the path's own. */
  async sourceType(stream: string, p: { source?: { type: string } | null }): Promise<string | undefined> {
    if (!this.mode(stream)) return p.source?.type;
    const ingest = await this.#o.api.getPath(ingestPath(stream)).catch(() => undefined);
    return ingest?.source?.type ?? p.source?.type;
  }

  /** The path the publisher is on: the ingest path when it has a publisher. */
  async publishedPath(stream: string): Promise<string> {
    const p = await this.#o.api.getPath(ingestPath(stream)).catch(() => undefined);
    return (p?.available ?? p?.ready) ? ingestPath(stream) : stream;
  }

  status(): Record<string, { mode: 'copy' | 'aac'; state: string; restarts: number; pid?: number }> {
    return Object.fromEntries(
      [...this.#jobs].map(([s, j]) => [s, { mode: j.mode, state: j.supervisor.state, restarts: j.supervisor.restarts, ...(j.supervisor.pid ? { pid: j.supervisor.pid } : {}) }]),
    );
  }

  /** MediaMTX died: its publishers are gone, and so are the ffmpeg jobs' inputs. */
  markAllDown(): void {
    for (const stream of [...this.#jobs.keys()]) void this.#stop(stream);
    this.#bytes.clear();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all([...this.#jobs.keys()].map((s) => this.#stop(s)));
  }

  async #start(stream: string): Promise<void> {
    if (this.#closed || this.#jobs.has(stream) || this.#starting.has(stream)) return;
    const log = this.#o.logger;
    let tracks: IngestTrack[] = [];
    this.#starting.add(stream);
    try {
      tracks = ingestTracks(await this.#o.api.getPath(ingestPath(stream)));
    } catch (err) {
      log.warn({ err, stream }, 'audio fix: could not read the ingest tracks; copying the audio');
    } finally {
      this.#starting.delete(stream);
    }
    if (this.#closed || this.#jobs.has(stream)) return;
    const audio = tracks.find((t) => !/^(H26[45]|AV1|VP[89]|MPEG-4 Video|MPEG-1\/2 Video|M-JPEG)$/.test(t.codec));
    const mode = audioNeedsFix(audio) ? 'aac' : 'copy';
    const supervisor = new Supervisor({
      label: `ffmpeg (audio fix, stream "${stream}")`,
      command: this.#o.binary,
      args: audioFixArgs(this.#o.url(ingestPath(stream)), this.#o.url(stream), audio),
      missingHint: 'install ffmpeg (apt-get install ffmpeg), set FFMPEG_BIN or the ffmpegBinary option, or set audioFix: off',
      // Serving once the stream is ready *from an RTSP publisher* (ffmpeg): a publisher that went
      // straight to the stream (RTMP/SRT) must not pass for this job.
      probe: async () => {
        const p = await this.#o.api.getPath(stream);
        return (p?.available ?? p?.ready ?? false) === true && p?.source?.type === 'rtspSession';
      },
      startTimeoutMs: 20_000,
      stopGraceMs: 3_000,
      restartDelayMs: 1_000,
      restartMaxDelayMs: 10_000,
      sanitize: this.#o.sanitize,
      onLine: (line) => log.debug({ line, stream }, 'ffmpeg output'),
      onExit: ({ code, signal, expected }) => {
        if (expected) return;
        if (code === 0) {
          // Its input ended: the publisher left. End the job (after the supervisor scheduled its
          // restart, so stop() cancels it); the next publish starts a new one.
          log.info({ stream }, 'audio fix: the publisher left; ffmpeg ended');
          setImmediate(() => void this.#stop(stream, supervisor));
        } else {
          log.warn({ code, signal, stream }, 'audio fix: ffmpeg failed; restarting it');
        }
      },
      onRestart: ({ attempt, pid }) =>
        this.#o.events?.emit('process:restarted', { plugin: PLUGIN_NAME, process: 'ffmpeg', attempt, ...(pid ? { pid } : {}) }),
      onError: (error) => log.warn({ err: error, stream }, 'audio fix: ffmpeg restart failed; trying again'),
    });
    const job: Job = { supervisor, mode, started: Promise.resolve() };
    this.#jobs.set(stream, job);
    job.started = supervisor.start().then(
      () => log.info({ stream, mode, audio: audio?.codec, sampleRate: audio?.sampleRate }, mode === 'aac' ? 'audio fix: re-encoding the audio to AAC 48 kHz for VRChat' : 'audio fix: audio plays in VRChat; copying it'),
      (err: unknown) => {
        log.error({ err, stream }, 'audio fix: ffmpeg did not start; trying again while the publisher sends');
        this.#o.events?.emit('error', { error: toHavenError(err, { code: 'START_FAILED', plugin: PLUGIN_NAME }), source: PLUGIN_NAME });
        // Drop the job: the next poll starts a new one if the ingest is still receiving.
        if (this.#jobs.get(stream) === job) this.#jobs.delete(stream);
      },
    );
    await job.started;
  }

  async #stop(stream: string, only?: Supervisor): Promise<void> {
    const job = this.#jobs.get(stream);
    if (!job || (only && job.supervisor !== only)) return;
    this.#jobs.delete(stream);
    await job.supervisor.stop();
  }
}
