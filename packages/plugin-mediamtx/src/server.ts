import path from 'node:path';
import {
  ensureStateDir,
  streamNameSchema,
  writePrivateFile,
  type HavenEmitter,
  type HavenSecrets,
  type Logger,
  type MediaEndpoints,
  type MediaServer,
  type MediaServerCapabilities,
  type StreamSpec,
  type StreamStats,
  type IngestTrack,
  type ViewerTokenKey,
} from '@haven/core';
import { MediaMtxApi, type KickKind } from './api.js';
import { AuthHookServer, type AuthFailure } from './auth-hook.js';
import { convergePaths, CONVERGE_WAIT_MS } from './converge.js';
import type { AuthPolicy, FailureEntry } from './auth-policy.js';
import { mtxError, PLUGIN_NAME } from './errors.js';
import { dialAddress, sanitize, SubnetMatcher } from './net.js';
import { isIP } from 'node:net';
import type { MediamtxOptions } from './options.js';
import { renderConfig, renderStreamPaths, toYaml, type Role, RELAY_USER } from './render.js';
import { canForward, dropUpstreamReads, hasStream, offlineTracks, sameTracks, upstreamBytes, upstreamPath, type OfflineTrack } from './node-paths.js';
import type { MtxPath } from './api-schemas.js';
import { StreamWatch } from './stream-watch.js';
import { AudioFix, ingestPath, ingestTracks, renderIngestPaths } from './audio-fix.js';
import { INTERNAL_USER, internalPassword, internalUrl } from './internal-access.js';
import { readerAddresses } from './reader-addresses.js';
import { RecentReaders } from './recent-readers.js';
import { Supervisor } from './supervisor.js';
import type { HttpsDoor } from './tls/https-door.js';

export interface MediaMtxServerInit {
  role: Role;
  options: MediamtxOptions;
  /** Resolved MediaMTX executable. */
  binary: string;
  /** Resolved ffmpeg executable for the audio fix. Default `ffmpeg`. */
  ffmpegBinary?: string;
  viewerUser: string;
  /** This machine's name in the Haven (viewer tokens are bound to it). */
  nodeName?: string;
  rtspAddress: string;
  /** Undefined when HLS is off. */
  hlsAddress: string | undefined;
  rtmpAddress: string;
  srtAddress: string;
  /** PROXY-protocol senders trusted on the RTSP listener. */
  trustedProxies: readonly string[];
  /** Node with TLS: the key+chain PEM file MediaMTX serves HTTPS with (see tls/store.ts). */
  tlsFile?: string;
  /** Failed logins per address per minute before the hook refuses it outright. Default 10. */
  maxAuthFailures?: number;
  /** The plugin's own folder, e.g. `<stateDir>/mediamtx` (created 0700). */
  workDir: string;
  streams: readonly StreamSpec[];
  secrets: HavenSecrets;
  /** Verifies the gateways' viewer tokens (see `AuthPolicy.tokenKey`). Absent: no token is accepted. */
  tokenKey?: ViewerTokenKey;
  logger: Logger;
  events?: HavenEmitter;
}

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
  /** Node role: each stream's tracks as learned from `up/<stream>` (node-paths.ts). */
  #tracks = new Map<string, OfflineTrack[] | null>();
  /** Tracks whose viewer path is rendered and applied (null: no offline equivalent, a plain pull). */
  #applied = new Map<string, OfflineTrack[] | null>();
  /** Node role: the parent is gone, `up/<stream>` forwards nothing until the next `setUpstream` (node-paths.ts). */
  #detached = false;
  /** When `readableNow` last asked for a stream-watch poll. */
  #polledAt = 0;
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
    this.#supervisor = new Supervisor({
      label: 'MediaMTX',
      command: init.binary,
      args: [this.configFile],
      cwd: init.workDir,
      // MTX_* variables override the config file (auth included): never inherit them.
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MTX_'))),
      probe: async (signal) => {
        this.#version = (await this.api.info(signal)).version;
        return true;
      },
      startTimeoutMs: init.options.startTimeoutMs,
      stopGraceMs: init.options.stopGraceMs,
      restartDelayMs: init.options.restartDelayMs,
      restartMaxDelayMs: init.options.restartMaxDelayMs,
      sanitize: (line) => sanitize(line, this.#secretValues()),
      onLine: (line) => log.debug({ line }, 'mediamtx output'),
      onExit: ({ code, signal, expected }) => {
        if (expected) return;
        log.warn({ code, signal }, 'MediaMTX exited unexpectedly; restarting it');
        this.#watch.markAllDown();
        this.#audioFix?.markAllDown();
      },
      onRestart: ({ attempt, pid }) => {
        log.warn({ attempt, pid }, 'MediaMTX restarted');
        init.events?.emit('process:restarted', { plugin: PLUGIN_NAME, process: 'mediamtx', attempt, ...(pid ? { pid } : {}) });
      },
      onError: (error) => {
        log.error({ err: error }, 'MediaMTX restart failed; trying again');
        init.events?.emit('error', { error, source: PLUGIN_NAME });
      },
    });
    this.#watch = new StreamWatch({
      api: this.api,
      intervalMs: init.options.pollIntervalMs,
      streams: () => this.#streams.map((s) => s.name),
      active: () => this.#supervisor.state === 'running',
      ...(init.role === 'node' ? { onList: (items: readonly MtxPath[]) => this.#learnTracks(items), isReady: (p: MtxPath) => this.#nodeReady(p) } : {}),
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
    const relays = this.#i.role === 'origin' && readers > 0 ? await this.#relayReaders(stream) : 0;
    const sourceType = await this.#sourceType(stream, p);
    // On a node, the viewers' addresses (reading now, or admitted with a token in the last minute):
    // the origin matches new ones to the redirects it sent.
    const addresses =
      this.#i.role === 'node' ? [...new Set([...(readers > 0 ? ((await readerAddresses(this.api, stream)) ?? []) : []), ...this.#recent.list(stream)])] : undefined;
    return {
      name: stream,
      ready: this.#i.role === 'node' ? this.#nodeReady(p) : hasStream(p),
      readers: readers - relays,
      ...(relays > 0 ? { relays } : {}),
      bytesIn: p.inboundBytes ?? p.bytesReceived ?? 0,
      bytesOut: p.outboundBytes ?? p.bytesSent ?? 0,
      tracks,
      ...(sourceType ? { sourceType } : {}),
      ...(addresses ? { readerAddresses: addresses } : {}),
    };
  }

  /**
   * Node role: the tracks `up/<stream>` carries while online. A change re-renders the viewer path
   * (`alwaysAvailable` with exactly these tracks; MediaMTX recreates it once, before viewers are expected).
   */
  #learnTracks(items: readonly MtxPath[]): void {
    const byName = new Map(items.map((p) => [p.name, p]));
    let changed = false;
    for (const { name } of this.#streams) {
      const up = byName.get(upstreamPath(name));
      if (!hasStream(up)) continue;
      const tracks = offlineTracks(up) ?? null;
      if (this.#tracks.has(name) && sameTracks(tracks ?? undefined, this.#tracks.get(name) ?? undefined)) continue;
      this.#tracks.set(name, tracks);
      changed = true;
    }
    if (!changed) return;
    const learned = new Map(this.#tracks);
    this.#sync()
      .then(() => {
        for (const [name, t] of learned) if (this.#tracks.get(name) === t) this.#applied.set(name, t);
      })
      .catch((err: unknown) => {
        // Learn them again at the next poll: else the viewer path's gate (#readable) stays shut for good.
        for (const [name, t] of learned) if (this.#tracks.get(name) === t && this.#applied.get(name) !== t) this.#tracks.delete(name);
        this.#i.logger.warn({ err }, 'could not apply the learned stream tracks; trying again');
      });
  }

  /**
   * Node role, the auth gate for new reads of the viewer path. Before `up/<stream>` was ever online MediaMTX
   * answers 404 itself (no gate). From then on, refused until the viewer path with the learned tracks is
   * applied (it is recreated once) and, when it is alwaysAvailable, while it plays the offline segment.
   */
  #readable(stream: string): boolean {
    if (!this.#tracks.has(stream)) return true;
    if (!this.#applied.has(stream) || this.#applied.get(stream) !== this.#tracks.get(stream)) return false;
    return this.#applied.get(stream) === null || this.#watch.isUp(stream);
  }

  /**
   * Node role: new reads of every stream are admitted now (the auth gate above). Cheap and synchronous,
   * for a door holding a read until the stream is back: while it is not, it polls MediaMTX (at most every
   * 100 ms) so the gate opens within a poll of the stream's return, not at the next 1 s round.
   */
  readableNow(): boolean {
    if (this.#i.role !== 'node') return true;
    const ok = this.#streams.every((s) => this.#readable(s.name));
    if (!ok && Date.now() - this.#polledAt >= 100) {
      this.#polledAt = Date.now();
      void this.#watch.poll();
    }
    return ok;
  }

  /**
   * Node role: the viewer path has the stream, and its final shape is applied (the learned tracks), so
   * the one recreation after the first pull is behind it before the node calls itself ready.
   */
  #nodeReady(p: MtxPath): boolean {
    return hasStream(p) && this.#applied.has(p.name);
  }

  /** How the publisher sends: while the audio fix republishes a stream, the ingest path's source. */
  async #sourceType(stream: string, p: { source?: { type: string } | null }): Promise<string | undefined> {
    if (!this.#audioFix?.mode(stream)) return p.source?.type;
    const ingest = await this.api.getPath(ingestPath(stream)).catch(() => undefined);
    return ingest?.source?.type ?? p.source?.type;
  }

  async #relayReaders(stream: string): Promise<number> {
    try {
      const list = await this.api.listRtspSessions();
      return list.items.filter((x) => x.path === stream && x.user === RELAY_USER && x.state === 'read').length;
    } catch {
      return 0;
    }
  }

  async kick(sessionId: string): Promise<boolean> {
    const kinds: KickKind[] = ['rtspsessions'];
    if (this.capabilities.protocols.rtmp) kinds.push('rtmpconns');
    if (this.capabilities.protocols.srt) kinds.push('srtconns');
    if (this.capabilities.protocols.hls) kinds.push('hlssessions');
    for (const kind of kinds) {
      if (await this.api.kick(kind, sessionId)) return true;
    }
    return false;
  }

  endpoints(): MediaEndpoints {
    const o = this.#i.options;
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
    const o = this.#i.options;
    return {
      role: this.#i.role,
      streams: new Set(this.#streams.map((s) => s.name)),
      viewerUser: this.#i.viewerUser,
      publishAnyUser: o.publishAnyUser,
      publishProtocols: new Set(o.publishProtocols),
      readProtocols: new Set(o.readProtocols),
      relaySubnets: this.#relaySubnets,
      ...this.#internalPolicy(),
      ...(this.#i.nodeName !== undefined ? { nodeName: this.#i.nodeName } : {}),
      ...(this.#i.role === 'node' ? { online: (stream: string) => this.#readable(stream) } : {}),
      ...(this.#viewerCheck ? { viewerCheck: this.#viewerCheck } : {}),
      ...(this.#relayCheck ? { relayCheck: this.#relayCheck } : {}),
      ...(this.#i.tokenKey ? { tokenKey: this.#i.tokenKey } : {}),
    };
  }

  /** The internal credential's rights, and the audio fix's ingest paths (see internal-access.ts). */
  #internalPolicy(): Pick<AuthPolicy, 'internal' | 'ingestPaths'> {
    const names = this.#streams.map((s) => s.name);
    const local = parseLocalIp(dialAddress(this.#i.rtspAddress));
    // A node's internal credential serves the Control API and metrics client, and the viewer path's
    // loopback pull of `up/<stream>`, or `up/<stream>`'s forward into the viewer path (node-paths.ts).
    if (this.#i.role !== 'origin') {
      return {
        internal: { password: this.#internalPassword, apiPassword: this.#apiPassword, read: new Set(names.map(upstreamPath)), publish: new Set(names), ...(local ? { localIps: new Set([local]) } : {}) },
      };
    }
    const ingest = this.#audioFix ? names.map(ingestPath) : [];
    return {
      internal: {
        password: this.#internalPassword,
        apiPassword: this.#apiPassword,
        read: new Set([...names, ...ingest]),
        publish: new Set(this.#audioFix ? names : []),
        ...(local ? { localIps: new Set([local]) } : {}),
      },
      ...(this.#audioFix ? { ingestPaths: new Set(ingest) } : {}),
    };
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

  /** The path the publisher is on: the ingest path when the audio fix is on and it has a publisher. */
  async #publishedPath(stream: string): Promise<string> {
    if (!this.#audioFix) return stream;
    const p = await this.api.getPath(ingestPath(stream)).catch(() => undefined);
    return (p?.available ?? p?.ready) ? ingestPath(stream) : stream;
  }

  async publishedTracks(stream: string): Promise<IngestTrack[]> {
    return ingestTracks(await this.api.getPath(await this.#publishedPath(stream)));
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
    return {
      role: this.#i.role,
      options: this.#upstream ? { ...this.#i.options, originRelay: this.#upstream } : this.#i.options,
      rtspAddress: this.#i.rtspAddress,
      hlsAddress: this.#i.hlsAddress,
      rtmpAddress: this.#i.rtmpAddress,
      srtAddress: this.#i.srtAddress,
      trustedProxies: this.#i.trustedProxies,
      relayPassword: this.#secrets.relayPassword,
      ...(this.#i.tlsFile !== undefined ? { tlsFile: this.#i.tlsFile } : {}),
      ...(this.#i.role === 'node'
        ? {
            nodePaths: {
              upstreamUrl: (p: string) => this.#internalUrl(p),
              tracks: (stream: string) => this.#tracks.get(stream) ?? undefined,
              forward: (stream: string) => (this.#forwarding() ? { url: this.#internalUrl(stream), attached: !this.#detached } : undefined),
            },
          }
        : {}),
    };
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

function checkStreams(streams: readonly StreamSpec[]): StreamSpec[] {
  const seen = new Set<string>();
  const out: StreamSpec[] = [];
  for (const s of streams) {
    if (!streamNameSchema.safeParse(s?.name).success) {
      throw mtxError('STREAM_INVALID', `stream name ${JSON.stringify(s?.name)} is not valid: expected 1-64 chars of A-Z a-z 0-9 _ -`);
    }
    if (!seen.has(s.name)) out.push({ name: s.name });
    seen.add(s.name);
  }
  return out;
}

/** The IP of a dial address (`1.2.3.4:8654`, `[::1]:8654`), if it is one. */
function parseLocalIp(dial: string): string | undefined {
  const host = dial.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return isIP(host) ? host : undefined;
}
