import path from 'node:path';
import {
  addressIp,
  ensureStateDir,
  writePrivateFile,
  type HavenSecrets,
  type IngestTrack,
  type MediaEndpoints,
  type MediaServer,
  type MediaServerCapabilities,
  type StreamSpec,
  type StreamStats,
} from '@haven/core';
import { MediaMtxApi } from './api.js';
import type { MtxPath } from './api-schemas.js';
import { AudioFix, ingestPath, ingestTracks, renderIngestPaths } from './audio-fix.js';
import { AuthHookServer, type AuthFailure } from './auth-hook.js';
import type { AuthPolicy, FailureEntry } from './auth-policy.js';
import { convergePaths, CONVERGE_WAIT_MS } from './converge.js';
import { mtxError, PLUGIN_NAME } from './errors.js';
import { INTERNAL_USER, internalPassword, internalUrl } from './internal-access.js';
import { mediamtxSupervisor } from './mediamtx-process.js';
import { dialAddress, sanitize, SubnetMatcher } from './net.js';
import { canForward, dropUpstreamReads, hasStream, upstreamBytes, upstreamPath } from './node-paths.js';
import { NodeTracks } from './node-tracks.js';
import { readerAddresses, relayReaders } from './reader-addresses.js';
import { RecentReaders } from './recent-readers.js';
import { renderConfig, renderStreamPaths, toYaml } from './render.js';
import { checkStreams, renderInput, type MediaMtxServerInit } from './server-init.js';
import { makePolicy } from './server-policy.js';
import { StreamWatch } from './stream-watch.js';
import type { Supervisor } from './supervisor.js';
import type { HttpsDoor } from './tls/https-door.js';

export type { MediaMtxServerInit } from './server-init.js';

/** The MediaServer contract on a supervised MediaMTX process, an auth hook and the Control API. */
export class MediaMtxServer implements MediaServer {
  readonly name = PLUGIN_NAME;
  readonly capabilities: MediaServerCapabilities;
  readonly configFile: string;
  readonly api: MediaMtxApi;
  readonly #i: MediaMtxServerInit;
  readonly #hook: AuthHookServer;
  readonly #supervisor: Supervisor;
  readonly #watch: StreamWatch;
  readonly #relaySubnets: SubnetMatcher;
  /** The internal credential (Control API/metrics client; loopback media clients on an origin): random at each start of this process, never logged or stored but in the 0600 config. */
  readonly #internalPassword = internalPassword();
  /** The Control API/metrics client's password: unlike the media one, never in a child's argv. */
  readonly #apiPassword = internalPassword();
  readonly #audioFix: AudioFix | undefined;
  readonly #recent = new RecentReaders();
  /** The relay tree's parent (node role); undefined = the origin. */
  #upstream: { host: string; port: number } | undefined;
  #viewerCheck: ((user: string, password: string) => boolean | undefined) | undefined;
  #relayCheck: ((password: string) => boolean | undefined) | undefined;
  readonly #tracks: NodeTracks;
  /** Node role: the parent is gone, `up/<stream>` forwards nothing until the next `setUpstream` (node-paths.ts). */
  #detached = false;
  #streams: StreamSpec[];
  #policy: AuthPolicy;
  #secrets: HavenSecrets;
  #written: string | undefined;
  #version: string | undefined;
  #started = false;
  #syncing: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(init: MediaMtxServerInit) {
    this.#i = init;
    const origin = init.role === 'origin';
    this.capabilities = {
      protocols: { rtsp: true, rtmp: origin, srt: origin, hls: init.hlsAddress !== undefined, webrtc: false },
      proxyProtocol: init.trustedProxies.length > 0,
      liveSecrets: true,
    };
    this.configFile = path.join(init.workDir, 'mediamtx.yml');
    this.#secrets = { ...init.secrets };
    this.#streams = checkStreams(init.streams);
    this.#relaySubnets = new SubnetMatcher(init.options.relaySubnets);
    this.#tracks = new NodeTracks({ sync: () => this.#sync(), isUp: (stream) => this.#watch.isUp(stream), poll: () => void this.#watch.poll(), logger: init.logger });
    this.#policy = this.#makePolicy();
    const log = init.logger;
    this.api = new MediaMtxApi(`http://${dialAddress(init.options.apiAddress)}`, {
      secrets: () => this.#secretValues(),
      credentials: () => ({ user: INTERNAL_USER, password: this.#apiPassword }),
    });
    this.#hook = new AuthHookServer({
      policy: () => this.#policy,
      secrets: () => this.#secrets,
      onFailure: (f) => this.#onAuthFailure(f),
      maxFailures: () => init.maxAuthFailures ?? 10,
      logger: log,
      onDecision: (d, m) => {
        if (d.allow && d.via === 'token') this.#recent.admitted(m.path, m.ip);
        log.debug({ ...m, allow: d.allow, as: d.allow ? d.as : undefined, reason: d.allow ? undefined : d.reason }, 'auth decision');
      },
    });
    this.#supervisor = mediamtxSupervisor(init, this.configFile, {
      probe: async (signal) => {
        this.#version = (await this.api.info(signal)).version;
        return true;
      },
      sanitize: (line) => sanitize(line, this.#secretValues()),
      onUnexpectedExit: () => {
        this.#watch.markAllDown();
        this.#audioFix?.markAllDown();
      },
    });
    this.#watch = new StreamWatch({
      api: this.api,
      intervalMs: init.options.pollIntervalMs,
      streams: () => this.#streams.map((s) => s.name),
      active: () => this.#supervisor.state === 'running',
      ...(init.role === 'node' ? { onList: (items: readonly MtxPath[]) => this.#tracks.learn(items, this.#streams), isReady: (p: MtxPath) => this.#tracks.ready(p) } : {}),
      onChange: (stream, up) => {
        log.info({ stream, up }, up ? 'stream is up' : 'stream is down');
        if (init.role === 'origin') init.events?.emit(up ? 'publisher:up' : 'publisher:down', { stream });
      },
    });
    this.#audioFix = origin && init.options.audioFix === 'auto' ? this.#makeAudioFix() : undefined;
    this.#policy = this.#makePolicy();
  }

  /** PID of the running MediaMTX (undefined while stopped or restarting). */
  get pid(): number | undefined {
    return this.#supervisor.pid;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    if (this.#closing) throw mtxError('NOT_RUNNING', 'this MediaMTX server was closed; create a new plugin instance');
    this.#started = true;
    await ensureStateDir(this.#i.workDir, PLUGIN_NAME);
    await this.#hook.listen();
    await this.#writeConfig();
    await this.#supervisor.start();
    this.#watch.start();
    this.#audioFix?.start();
    this.#i.logger.info({ version: this.#version, pid: this.pid, role: this.#i.role, endpoints: this.endpoints() }, 'MediaMTX running');
  }

  async apply(streams: StreamSpec[]): Promise<void> {
    this.#streams = checkStreams(streams);
    this.#policy = this.#makePolicy();
    await this.#sync();
  }

  async stats(stream: string): Promise<StreamStats> {
    const p = await this.api.getPath(stream);
    if (!p) return { name: stream, ready: false, readers: 0, bytesIn: 0, bytesOut: 0, tracks: [] };
    const tracks = p.tracks2?.map((t) => t.codec) ?? p.tracks ?? [];
    const readers = p.readers?.length ?? 0;
    // On an origin, nodes pulling over the VPN are readers too; count them apart from viewers.
    const relays = this.#i.role === 'origin' && readers > 0 ? await relayReaders(this.api, stream) : 0;
    // Where the stream comes from: on a node, its pull from the parent (`up/<stream>`), also while that
    // path forwards into the viewer path (whose publisher is then the forward's session).
    const sourceType = this.#audioFix
      ? await this.#audioFix.sourceType(stream, p)
      : this.#i.role === 'node'
        ? ((await this.api.getPath(upstreamPath(stream)).catch(() => undefined))?.source?.type ?? p.source?.type)
        : p.source?.type;
    // On a node, the viewers' addresses (reading now, or admitted with a token in the last minute):
    // the origin matches new ones to the redirects it sent.
    const addresses =
      this.#i.role === 'node' ? [...new Set([...(readers > 0 ? ((await readerAddresses(this.api, stream)) ?? []) : []), ...this.#recent.list(stream)])] : undefined;
    return {
      name: stream,
      ready: this.#i.role === 'node' ? this.#tracks.ready(p) : hasStream(p),
      readers: readers - relays,
      ...(relays > 0 ? { relays } : {}),
      bytesIn: p.inboundBytes ?? p.bytesReceived ?? 0,
      bytesOut: p.outboundBytes ?? p.bytesSent ?? 0,
      tracks,
      ...(sourceType ? { sourceType } : {}),
      ...(addresses ? { readerAddresses: addresses } : {}),
    };
  }

  /** Node role: new reads of every stream are admitted now (`NodeTracks.allReadable`); always true on an origin. */
  readableNow(): boolean {
    return this.#i.role !== 'node' || this.#tracks.allReadable(this.#streams);
  }

  async kick(sessionId: string): Promise<boolean> {
    return this.api.kickSession(sessionId, this.capabilities.protocols);
  }

  endpoints(): MediaEndpoints {
    const origin = this.#i.role === 'origin';
    return {
      rtsp: dialAddress(this.#i.rtspAddress),
      ...(this.#i.hlsAddress !== undefined ? { hls: `${this.#i.tlsFile !== undefined ? 'https' : 'http'}://${dialAddress(this.#i.hlsAddress)}` } : {}),
      ...(origin ? { rtmp: dialAddress(this.#i.rtmpAddress), srt: dialAddress(this.#i.srtAddress) } : {}),
    };
  }

  async updateSecrets(secrets: HavenSecrets): Promise<void> {
    this.#secrets = { ...secrets };
    // The origin decides from #secrets in the hook; a node's pull URL embeds the relay password.
    if (this.#i.role === 'node') await this.#sync();
  }

  /**
   * Node role: pull from another relay listener over the VPN (the relay tree's parent), e.g. a parent
   * node's `10.77.0.3:8554`; undefined goes back to the origin of the join bundle. Only `up/<stream>`
   * changes (MediaMTX recreates it); readers of the viewer path stay connected once its tracks are known.
   */
  async setUpstream(upstream: { host: string; port: number } | undefined): Promise<void> {
    if (this.#i.role !== 'node') throw mtxError('OPTIONS_INVALID', 'setUpstream is for the node role: an origin has no upstream');
    this.#upstream = upstream;
    this.#detached = false;
    // Always converge, also when the parent looks unchanged: a caller retrying after a failed sync
    // (MediaMTX busy reloading) must still get the new source into MediaMTX. Cheap when nothing changed.
    await this.#sync();
  }

  /** Node role: see `upstreamBytes` in node-paths.ts (a silent parent shows as a count that stops growing). */
  async upstreamBytes(): Promise<Map<string, number>> {
    if (this.#i.role !== 'node') throw mtxError('OPTIONS_INVALID', 'upstreamBytes is for the node role');
    return upstreamBytes(this.api, this.#streams.map((s) => s.name));
  }

  /** Node role, when the parent is gone: see `dropUpstreamReads` in node-paths.ts. Returns how many reads it closed. */
  async dropUpstreamReads(): Promise<number> {
    if (this.#i.role !== 'node') throw mtxError('OPTIONS_INVALID', 'dropUpstreamReads is for the node role');
    if (this.#forwarding()) {
      // The viewer paths are fed by up/<stream>'s forward: stop it (their publisher leaves at once).
      this.#detached = true;
      await this.#sync();
      return this.#streams.length;
    }
    return dropUpstreamReads(this.api, this.#streams.map((s) => s.name));
  }

  /** Node role: whether up/<stream> forwards into the viewer paths (node-paths.ts): a MediaMTX that can. */
  #forwarding(): boolean {
    return this.#i.role === 'node' && canForward(this.#version);
  }

  /** Node with `tls`: its HTTPS door (own HTTPS URL while certified, the HTTPS entry's routing slot); set by the plugin. */
  httpsDoor: HttpsDoor | undefined;

  /**
   * Node role: check viewers' passwords with `check` instead of the stored viewer password (see
   * `AuthPolicy.viewerCheck`); undefined goes back to the stored one. Applies to the next request.
   */
  setViewerCheck(check: ((user: string, password: string) => boolean | undefined) | undefined): void {
    this.#viewerCheck = check;
    this.#policy = this.#makePolicy();
  }

  /**
   * Check relay pulls' passwords with `check` instead of the stored relay password (see
   * `AuthPolicy.relayCheck`); undefined goes back to the stored one. Applies to the next request.
   */
  setRelayCheck(check: ((password: string) => boolean | undefined) | undefined): void {
    this.#relayCheck = check;
    this.#policy = this.#makePolicy();
  }

  /** Failed auth attempts (that carried credentials) from this IP in the last minute. */
  authFailures(ip: string): number {
    return this.#hook.failureCount(ip);
  }

  authFailureSnapshot(): FailureEntry[] {
    return this.#hook.failureSnapshot();
  }

  async status(): Promise<Record<string, unknown>> {
    return {
      role: this.#i.role,
      state: this.#supervisor.state,
      pid: this.pid,
      version: this.#version,
      restarts: this.#supervisor.restarts,
      config: this.configFile,
      endpoints: this.endpoints(),
      streams: Object.fromEntries(this.#streams.map((s) => [s.name, { up: this.#watch.isUp(s.name) }])),
      authFailingIps: this.#hook.failureSnapshot().length,
      ...(this.#audioFix ? { audioFix: this.#audioFix.status() } : {}),
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#watch.stop();
      await this.#audioFix?.close();
      await this.#supervisor.stop();
      await this.#hook.close();
    })();
    return this.#closing;
  }

  #secretValues(): string[] {
    const s = this.#secrets;
    let hook: string | undefined;
    try {
      hook = this.#hook.url;
    } catch {
      hook = undefined;
    }
    return [s.streamKey, s.viewerPassword, s.relayPassword, this.#internalPassword, encodeURIComponent(this.#internalPassword), this.#apiPassword, ...(hook ? [hook] : [])];
  }

  #makePolicy(): AuthPolicy {
    return makePolicy({
      init: this.#i,
      streams: this.#streams,
      relaySubnets: this.#relaySubnets,
      internalPassword: this.#internalPassword,
      apiPassword: this.#apiPassword,
      audioFix: this.#audioFix !== undefined,
      readable: (stream) => this.#tracks.readable(stream),
      viewerCheck: this.#viewerCheck,
      relayCheck: this.#relayCheck,
    });
  }

  #makeAudioFix(): AudioFix {
    return new AudioFix({
      api: this.api,
      binary: this.#i.ffmpegBinary ?? 'ffmpeg',
      streams: () => this.#streams.map((s) => s.name),
      url: (p) => this.#internalUrl(p),
      active: () => this.#supervisor.state === 'running',
      pollIntervalMs: this.#i.options.pollIntervalMs,
      logger: this.#i.logger.child({ area: 'audio-fix' }),
      ...(this.#i.events ? { events: this.#i.events } : {}),
      sanitize: (line) => sanitize(line, this.#secretValues()),
    });
  }

  #internalUrl(path: string): string {
    return internalUrl(dialAddress(this.#i.rtspAddress), path, this.#internalPassword);
  }

  async publishedTracks(stream: string): Promise<IngestTrack[]> {
    return ingestTracks(await this.api.getPath(this.#audioFix ? await this.#audioFix.publishedPath(stream) : stream));
  }

  publishedReadUrl(stream: string): string {
    // The sampler reads the ingest path while the audio fix republishes the stream.
    return this.#internalUrl(this.#audioFix?.mode(stream) ? ingestPath(stream) : stream);
  }

  audioFixed(stream: string): boolean {
    return this.#audioFix?.mode(stream) === 'aac';
  }

  #onAuthFailure(f: AuthFailure): void {
    this.#i.logger.info({ ip: f.ip, action: f.action, protocol: f.protocol, path: f.path, reason: f.reason, failures: f.count }, 'auth refused');
    if (f.action === 'read') this.#i.events?.emit('viewer:refused', { ip: f.ip, reason: 'auth' });
  }

  #renderInput() {
    return renderInput(this.#i, {
      upstream: this.#upstream,
      relayPassword: this.#secrets.relayPassword,
      internalUrl: (p) => this.#internalUrl(p),
      tracks: this.#tracks,
      forward: (stream) => (this.#forwarding() ? { url: this.#internalUrl(stream), attached: !this.#detached } : undefined),
    });
  }

  async #writeConfig(): Promise<boolean> {
    const conf = renderConfig({ ...this.#renderInput(), streams: this.#streams, authUrl: this.#hook.url });
    conf.paths = { ...(conf.paths as object), ...renderIngestPaths({ ...this.#renderInput(), streams: this.#streams }) };
    const text = toYaml(conf);
    if (text === this.#written) return false;
    try {
      await writePrivateFile(this.configFile, text, PLUGIN_NAME);
    } catch (err) {
      throw mtxError('CONFIG_WRITE', `cannot write ${this.configFile}: check that the state directory is writable`, { cause: err });
    }
    this.#written = text;
    return true;
  }

  /** Write the file (MediaMTX hot-reloads it) and make sure the running config matches. One at a time. */
  #sync(): Promise<void> {
    const next = this.#syncing.catch(() => undefined).then(() => this.#syncOnce());
    this.#syncing = next;
    return next;
  }

  async #syncOnce(): Promise<void> {
    if (!this.#started || this.#closing) return;
    const changed = await this.#writeConfig();
    if (this.#supervisor.state !== 'running') return; // a (re)start reads the file
    const desired = new Map(this.#streams.flatMap((s) => Object.entries(renderStreamPaths(this.#renderInput(), s.name))));
    for (const [name, conf] of Object.entries(renderIngestPaths({ ...this.#renderInput(), streams: this.#streams }))) desired.set(name, conf);
    await convergePaths(this.api, desired, changed ? CONVERGE_WAIT_MS : 0);
  }
}
