import { z } from 'zod';
import { mtxError } from './errors.js';
import { isLoopbackHost, parseCidr, parseListen } from './net.js';
import { tlsOptionSchema } from './tls/options.js';

const port = z.number().int().min(1).max(65535);

const listen = z
  .string()
  .refine((v) => parseListen(v) !== undefined, 'expected host:port, e.g. 127.0.0.1:8654 or :8654');

const loopbackListen = listen.refine((v) => {
  const p = parseListen(v);
  return p !== undefined && isLoopbackHost(p.host);
}, 'expected a loopback address such as 127.0.0.1:9997 (this listener has no password)');

const cidr = z.string().refine((v) => parseCidr(v) !== undefined, 'expected a subnet such as 10.77.0.0/24');

/** MediaMTX duration: `500ms`, `10s`, `1m`, `1h`, `1d`. */
const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'expected a duration such as 10s');

/** Global MediaMTX keys that are safe to override: none of them touches auth or listeners. */
const globalOverridesSchema = z.strictObject({
  /** Power of two. MediaMTX default 512. */
  writeQueueSize: z
    .number()
    .int()
    .min(64)
    .refine((v) => (v & (v - 1)) === 0, 'expected a power of two')
    .optional(),
  /** At most 1472; lower it over tunnels when readers use UDP. MediaMTX default 1452. */
  udpMaxPayloadSize: z.number().int().min(500).max(1472).optional(),
  hlsVariant: z.enum(['mpegts', 'fmp4', 'lowLatency']).optional(),
  hlsSegmentCount: z.number().int().min(3).max(100).optional(),
  hlsSegmentDuration: duration.optional(),
  hlsPartDuration: duration.optional(),
  hlsAlwaysRemux: z.boolean().optional(),
  hlsMuxerCloseAfter: duration.optional(),
});

/** Per-stream MediaMTX path keys that are safe to override. */
const pathOverridesSchema = z.strictObject({
  /** Readers allowed per stream on this server; 0 = no limit. MediaMTX default 0. */
  maxReaders: z.number().int().min(0).optional(),
  /** A new publisher replaces the current one. MediaMTX default true. */
  overridePublisher: z.boolean().optional(),
  /** Keep readers connected through publisher gaps (plays an offline segment). MediaMTX default false. */
  alwaysAvailable: z.boolean().optional(),
});

export const mediamtxOptionsSchema = z.strictObject({
  /** MediaMTX executable. Default: `$MEDIAMTX_BIN`, then `mediamtx` on PATH. */
  binary: z.string().min(1).optional(),
  /**
   * RTSP listener. Default on an origin: `<VPN address>:8654` when the origin runs a VPN (nodes pull there;
   * the gateway splices there from this machine), `127.0.0.1:8654` otherwise. Default on a node:
   * `127.0.0.1:8654`, behind the node's entry gateway on `<public.bind>:<public.rtspPort>`.
   */
  rtspAddress: listen.optional(),
  /**
   * Where OBS may publish from (origin only): `loopback` (default) binds RTMP and SRT to 127.0.0.1, so
   * only this machine can publish; `lan` binds every interface (OBS on another machine of the LAN, or
   * Docker's port mapping). `rtmpAddress`/`srtAddress` win when given.
   */
  ingest: z.enum(['loopback', 'lan']).default('loopback'),
  /** RTMP ingest (origin only). Default `127.0.0.1:1935` (`:1935` with `ingest: lan`). */
  rtmpAddress: listen.optional(),
  /** SRT ingest, UDP (origin only). Default `127.0.0.1:8890` (`:8890` with `ingest: lan`). */
  srtAddress: listen.optional(),
  /** Serve HLS (viewer password required). Default true. */
  hls: z.boolean().default(true),
  /** HLS listener. Default on an origin `127.0.0.1:8655` (the HLS gateway proxies here); on a node `<public.bind>:<public.hlsPort>`. */
  hlsAddress: listen.optional(),
  /**
   * Control API listener; loopback only. Every call goes through the auth hook and needs the plugin's
   * per-process internal credential; no browser origin is allowed. Default `127.0.0.1:9997`.
   */
  apiAddress: loopbackListen.default('127.0.0.1:9997'),
  /** Serve Prometheus metrics. Default false. */
  metrics: z.boolean().default(false),
  /** Metrics listener; loopback only. Default `127.0.0.1:9998`. */
  metricsAddress: loopbackListen.default('127.0.0.1:9998'),
  /** RTSP transports offered to readers. Default `['tcp']` (UDP cannot cross the TCP gateway). */
  rtspTransports: z.array(z.enum(['tcp', 'udp', 'multicast'])).min(1).default(['tcp']),
  /**
   * Peers allowed to send a PROXY protocol header on the RTSP port (the gateway). Default `['127.0.0.1/32']`,
   * plus the VPN address when the RTSP listener is bound there (the gateway then dials it from that address).
   */
  trustedProxies: z.array(cidr).optional(),
  /**
   * Peers whose `X-Forwarded-For` MediaMTX's HLS server trusts (the gateway's HLS proxy: on an origin
   * the loopback gateway, on a node the origin's VPN address, which fetches playlists over the VPN).
   * Only loopback or VPN addresses belong here: a public address may be shared (CGNAT). Default: `trustedProxies`.
   */
  hlsTrustedProxies: z.array(cidr).optional(),
  /** Where the relay credential is accepted from (origin). Default `['10.77.0.0/24']`, the VPN. */
  relaySubnets: z.array(cidr).min(1).default(['10.77.0.0/24']),
  /** Node role: the origin's relay RTSP listener as seen over the VPN (from the join bundle). */
  originRelay: z
    .strictObject({
      /** The origin's VPN address, e.g. `10.77.0.1`. */
      host: z.string().min(1).regex(/^[A-Za-z0-9.:-]+$/, 'expected an IP address or host name'),
      /** The origin's `rtspAddress` port. Default 8654. */
      port: port.default(8654),
    })
    .optional(),
  /**
   * Accept a publish whose password is the stream key whatever the user name (OBS users often type any
   * name). When false, the user must be `publisher`. Default true.
   */
  publishAnyUser: z.boolean().default(true),
  /**
   * Failed logins per address within a minute before the hook refuses that address's publish and read
   * outright (also after the gateway spliced it, and on nodes). Default: the origin's
   * `gateway.maxAuthFailuresPerMinute`, 10 on a node.
   */
  maxAuthFailuresPerMinute: z.number().int().min(1).optional(),
  /** Protocols a publisher may use. Default `['rtmp', 'srt']`. */
  publishProtocols: z.array(z.enum(['rtmp', 'srt', 'rtsp'])).default(['rtmp', 'srt']),
  /** Protocols a viewer may read with. Default `['rtsp', 'hls']`. */
  readProtocols: z.array(z.enum(['rtsp', 'hls', 'rtmp', 'srt'])).default(['rtsp', 'hls']),
  /** MediaMTX log level (its lines go to the plugin logger at debug). Default `info`. */
  logLevel: z.enum(['error', 'warn', 'info']).default('info'),
  /** MediaMTX `readTimeout` (also the auth hook's HTTP timeout). Default `10s`. */
  readTimeout: duration.default('10s'),
  /** MediaMTX `writeTimeout`. Default `10s`. */
  writeTimeout: duration.default('10s'),
  /** How long start() waits for the Control API to answer, ms. Default 15000. */
  startTimeoutMs: z.number().int().min(100).default(15_000),
  /** Time between SIGTERM and SIGKILL on stop, ms. Default 5000. */
  stopGraceMs: z.number().int().min(0).default(5_000),
  /** First restart delay after an unexpected exit, doubled each time, ms. Default 500. */
  restartDelayMs: z.number().int().min(0).default(500),
  /** Cap of the restart delay, ms. Default 30000. */
  restartMaxDelayMs: z.number().int().min(0).default(30_000),
  /** Stream state poll interval for `publisher:up/down`, ms. Default 1000. */
  pollIntervalMs: z.number().int().min(50).default(1_000),
  /**
   * Origin: serve VRChat-playable audio whatever OBS sends. `auto`: publishers send to `ingest/<stream>`
   * (the URL `haven urls` gives); an ffmpeg per live stream republishes it to `<stream>` with the video
   * copied and the audio copied when VRChat plays it, or re-encoded to AAC 48 kHz when it does not (Opus,
   * G.711, MP3, a rate other than 48 kHz). Publishing straight to `<stream>` still works, unrepaired.
   * `off`: no ingest paths, no ffmpeg. Default `auto`.
   */
  audioFix: z.enum(['auto', 'off']).default('auto'),
  /** ffmpeg executable for the audio fix. Default: `$FFMPEG_BIN`, then `ffmpeg` on PATH. */
  ffmpegBinary: z.string().min(1).optional(),
  /**
   * Node only: HLS over HTTPS with a certificate for the node's public IP (`public.host`). `acme` (or
   * `{ mode: 'acme', directoryUrl, ... }`): issued by an ACME CA, Let's Encrypt by default, over http-01
   * on port 80, renewed with a third of its life left. `{ mode: 'files', certFile, keyFile }`: the
   * operator's certificate. Certificate Transparency: a public CA logs every certificate it issues, so
   * the node's address is listed in CT logs. Default: off (HLS over plain HTTP).
   */
  tls: tlsOptionSchema.optional(),
  /**
   * Node with `tls`: the HTTPS entry (the Quest URL `https://<ip>/<stream>/index.m3u8`), which answers
   * 302 to this node's own HTTPS playlist with a signed token instead of the password. Default
   * `<public.bind>:443`; `false` turns it off.
   */
  httpsEntryAddress: z.union([listen, z.literal(false)]).optional(),
  /** Node with `tls`: also serve RTSPS (RTSP over TLS) on this address, e.g. `:8322`. Default off. */
  rtspsAddress: listen.optional(),
  /** Safe MediaMTX tuning. Default none. */
  overrides: z
    .strictObject({
      global: globalOverridesSchema.default({}),
      path: pathOverridesSchema.default({}),
    })
    .prefault({}),
});

export type MediamtxOptionsInput = z.input<typeof mediamtxOptionsSchema>;
export type MediamtxOptions = z.output<typeof mediamtxOptionsSchema>;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'a map';
  return JSON.stringify(v);
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

function keyPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, s) => (typeof s === 'number' ? `${out}[${s}]` : out ? `${out}.${String(s)}` : String(s)), '') || '(options)';
}

/** Parse options given in code; throws `[haven/mediamtx] relaySubnets[0]: expected a subnet ..., got "x"`. */
export function parseOptions(input: unknown): MediamtxOptions {
  const r = mediamtxOptionsSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `${keyPath(i.path)}: unknown option(s) ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    return `${keyPath(i.path)}: ${i.message.replace(/^Invalid input: /, '')}, got ${describe(valueAt(input, i.path))}`;
  });
  throw mtxError('OPTIONS_INVALID', lines.join('; '), { cause: r.error, details: { problems: lines } });
}
