import { isIP } from 'node:net';
import { z } from 'zod';
import { resolveRegion } from '../regions.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `[a-z0-9-]`, 1-63 chars: used in file names, metrics labels and interface names. */
export const nodeNameSchema = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'expected lowercase letters, digits and dashes (1-63 chars)');

/**
 * A MediaMTX path name we accept for streams. No VRChat-specific rule is needed on top: every allowed
 * character is an RFC 3986 "unreserved" character, which no URL parser, percent-encoder or normaliser
 * rewrites (RFC 3986 §2.3, §6.2.2), and normalisers lowercase only the scheme and host, never the path
 * (§6.2.2.1). So VRChat's VRCUrl, the world players (which pass the string to AVPro unchanged) and
 * Media Foundation receive the name as typed. What would be mangled (spaces, `#`, `?`, `%`, `/`, `.`,
 * non-ASCII letters) is refused here already. See test stream-name.test.ts.
 */
export const streamNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 chars of A-Z a-z 0-9 _ -');

/** A WireGuard public key: 32 bytes in base64 (44 chars ending in '='). */
export const wgKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, 'expected a WireGuard public key (44 chars of base64)');

export const ipv4Schema = z.string().refine((v) => isIP(v) === 4, 'expected an IPv4 address');

/** `host:port` a WireGuard peer is reached at: an IPv4 address, `[IPv6]` or a DNS name, and a port 1-65535. */
export const endpointSchema = z.string().refine((v) => {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(v);
  if (!m) return false;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return false;
  if (m[1] !== undefined) return isIP(m[1]) === 6;
  const host = m[2] as string;
  if (/^[\d.]+$/.test(host)) return isIP(host) === 4;
  return host.length <= 253 && host.split('.').every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}, 'expected host:port where WireGuard reaches the node, e.g. 198.51.100.7:51820, [2001:db8::7]:51820 or node.example.net:51820');

const port = z.number().int().min(1).max(65535);

/** `host:port`, `:port` or `[v6]:port`. */
export const listenSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:8554');

/** Relay children a node feeds unless its entry says otherwise. */
export const DEFAULT_NODE_RELAY_CHILDREN = 2;

/**
 * The origin's uplink budget: how many nodes pull from it directly. Unset = every node pulls from the
 * origin (unbounded). Nodes beyond the budget pull from another node (packages/control/src/relay).
 */
export const relaySchema = z
  .strictObject({
    /** Nodes the origin feeds directly. Unset = unlimited. */
    maxChildren: z.number().int().min(1).optional(),
    /**
     * The origin's uplink in Mbit/s: with the stream's measured bitrate it gives the number of copies
     * the origin can send (floor(uplink x 0.8 / bitrate), at least 1). With `maxChildren` too, the smaller wins.
     */
    uplinkMbps: z.number().positive().optional(),
    /** Longest chain of nodes from the origin (depth 1 = pulls from the origin). Default 3. */
    maxDepth: z.number().int().min(1).max(16).default(3),
  })
  .prefault({});

const placeFields = {
  /** A named region (`eu-central`, `us-east`, an ISO country code...). */
  region: z.string().optional(),
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
};

function checkPlace(
  v: { region?: string | undefined; lat?: number | undefined; lon?: number | undefined },
  ctx: z.RefinementCtx,
  required: boolean,
): void {
  if ((v.lat === undefined) !== (v.lon === undefined)) {
    ctx.addIssue({ code: 'custom', path: [v.lat === undefined ? 'lat' : 'lon'], message: 'lat and lon go together: give both or neither' });
  }
  if (v.region !== undefined && !resolveRegion(v.region)) {
    ctx.addIssue({
      code: 'custom',
      path: ['region'],
      message: `unknown region "${v.region}": use a region name such as eu-central or us-east, an ISO country code, or give lat/lon`,
    });
  }
  if (required && v.region === undefined && v.lat === undefined) {
    ctx.addIssue({ code: 'custom', path: ['region'], message: 'a node needs a place: give region, or lat and lon' });
  }
}

export const nodeEntrySchema = z
  .strictObject({
    name: nodeNameSchema,
    ...placeFields,
    /** Public RTSP base URL viewers are redirected to, e.g. rtsp://198.51.100.7:8554. */
    rtsp: z.string().regex(/^rtsp:\/\/[^/\s@]+(:\d+)?\/?$/, 'expected rtsp://host:port with no path or credentials'),
    /** Public HLS base URL, e.g. http://198.51.100.7:8888. */
    hls: z.string().regex(/^https?:\/\/[^/\s@]+(:\d+)?\/?$/, 'expected http://host:port').optional(),
    /** Max concurrent viewers; 0 = unlimited. Default 0. */
    capacity: z.number().int().min(0).default(0),
    /**
     * Nodes this node feeds (relay children) when the origin's uplink is full; each child counts as one
     * viewer against `capacity`. 0 = never a relay parent. Default 2.
     */
    relayChildren: z.number().int().min(0).default(DEFAULT_NODE_RELAY_CHILDREN),
    /** The node's WireGuard public key (from its share code). */
    publicKey: wgKeySchema.optional(),
    /** The node's address inside the VPN; allocated by the origin when absent. */
    vpnAddress: ipv4Schema.optional(),
    /** Where the node's WireGuard listens, if reachable (host:port). */
    endpoint: endpointSchema.optional(),
  })
  .superRefine((v, ctx) => checkPlace(v, ctx, true));

export type NodeEntry = z.output<typeof nodeEntrySchema>;

const streamsSchema = z
  .array(z.strictObject({ name: streamNameSchema }))
  .min(1)
  .default([{ name: 'live' }])
  .superRefine((streams, ctx) => {
    const seen = new Set<string>();
    streams.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate stream name "${s.name}"` });
      seen.add(s.name);
    });
  });

const logSchema = z
  .strictObject({
    /** Default `info`. */
    level: z.enum(LOG_LEVELS).default('info'),
  })
  .default({ level: 'info' });

const viewerSchema = z
  .strictObject({
    /** User name viewers type; the password is generated. Default `viewer`. */
    user: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default('viewer'),
    /**
     * Accept Basic (the password in clear, base64) from players that cannot do Digest. Digest is
     * always offered first; Basic answers are counted per player and shown. Default true.
     */
    allowBasic: z.boolean().default(true),
  })
  .prefault({});

const publicSchema = z
  .strictObject({
    /** The address viewers and nodes reach this machine at (IP or name). Default 127.0.0.1. */
    host: z.string().min(1).default('127.0.0.1'),
    /** Public RTSP port (the gateway on an origin, MediaMTX on a node). Default 8554. */
    rtspPort: port.default(8554),
    /** Public HTTP port for HLS. Default 8888. */
    hlsPort: port.default(8888),
    /** Address to bind public listeners on. Default 0.0.0.0. */
    bind: z.string().default('0.0.0.0'),
  })
  .default({ host: '127.0.0.1', rtspPort: 8554, hlsPort: 8888, bind: '0.0.0.0' });

const DEFAULT_REDIRECT_AGENTS = ['Lavf', 'LibVLC', 'LIVE555', 'GStreamer', 'gortsplib', 'mediamtx'];

const gatewaySchema = z
  .strictObject({
    /**
     * `adaptive` (default): every player gets a 302 to its node; one that asks again on the same
     * connection (androidx/media3) is served there, and players learned not to follow are served
     * locally. `known-players`: only `redirectUserAgents` are redirected. `always`/`never`.
     */
    redirect: z.enum(['adaptive', 'known-players', 'always', 'never']).default('adaptive'),
    /** User-Agent substrings (case-insensitive) always served locally, whatever was learned. */
    pinLocal: z.array(z.string().min(1)).default([]),
    /** User-Agent substrings (case-insensitive) always redirected, whatever was learned. */
    pinRedirect: z.array(z.string().min(1)).default([]),
    /** How long a connection stays open after a 302 for a DESCRIBE of the `Location` on it, ms. Default 10000. */
    sameConnectionMs: z.number().int().min(100).default(10_000),
    /** Lifetime of the signed token in a redirect's `Location`, seconds. Default 60. */
    tokenTtlSec: z.number().int().min(5).max(600).default(60),
    /** A redirected viewer must reach its node within this long to count as following, ms. Default 20000. */
    followDeadlineMs: z.number().int().min(1000).default(20_000),
    /** Redirects seen per User-Agent before learning may serve it locally. Default 3. */
    learnMinSamples: z.number().int().min(1).default(3),
    /** Below this follow-rate (0..1) a User-Agent is served locally. Default 0.5. */
    learnMinFollowRate: z.number().min(0).max(1).default(0.5),
    /**
     * Distinct networks (IPv4 /24, IPv6 /48) whose redirects went unfollowed before a User-Agent is
     * served locally: one sender with the viewer password cannot steer every viewer of a player. Default 3.
     */
    learnMinPrefixes: z.number().int().min(1).default(3),
    /** What was learned about a player counts for this long, then decays away (seconds). Default 86400. */
    learnWindowSec: z.number().int().min(60).default(86_400),
    /** User-Agent substrings (case-insensitive) of players that follow RTSP redirects. */
    redirectUserAgents: z.array(z.string().min(1)).default(DEFAULT_REDIRECT_AGENTS),
    /** HLS hand-over: a master playlist pointing at the node (default), or an HTTP 302. */
    hlsMode: z.enum(['playlist', 'redirect']).default('playlist'),
    /** Keep a viewer IP on the same node for this long while it stays healthy; 0 = off. Default 300. */
    stickySec: z.number().int().min(0).default(300),
    /** Max bytes of one request's headers. Default 16384. */
    maxHeaderBytes: z.number().int().min(512).default(16384),
    /** Max header lines of one request. Default 64. */
    maxHeaders: z.number().int().min(4).default(64),
    /** Time allowed to the first complete request, ms. Default 5000. */
    firstRequestTimeoutMs: z.number().int().min(100).default(5000),
    /** Failed auth attempts per address (IPv6 /64) per minute before refusal; a network (IPv4 /24, IPv6 /48) gets 3 times as many. Default 10. */
    maxAuthFailuresPerMinute: z.number().int().min(1).default(10),
    /**
     * Max concurrent connections of each door. Near it (the last 10 %), the network holding the most
     * connections is refused first, and at it a newcomer from a smaller network takes the slot of the
     * oldest undecided connection of the network holding the most undecided ones. Default 2000.
     */
    maxConnections: z.number().int().min(1).default(2000),
    /**
     * Connections one address (an IPv6 /64) may hold at once, spliced viewers included; viewers behind
     * one NAT share it. Default 64.
     */
    maxConnectionsPerAddress: z.number().int().min(1).default(64),
    /** New connections per second one address may open on average (a reconnecting player needs far less). Default 10. */
    newConnectionsPerSecond: z.number().min(0.1).default(10),
    /** New connections one address may open at once before that rate applies. Default 40. */
    newConnectionBurst: z.number().int().min(1).default(40),
    /**
     * Connections one network (an IPv4 /24, an IPv6 /48) may hold at once at each door, so a sender
     * rotating addresses inside its network stays one sender. Default 256.
     */
    maxConnectionsPerPrefix: z.number().int().min(1).default(256),
    /** Undecided connections (not yet redirected, spliced or served) one address may hold at each door. Default 16. */
    maxUndecidedPerAddress: z.number().int().min(1).default(16),
    /** Undecided connections one network (IPv4 /24, IPv6 /48) may hold at each door. Default 32. */
    maxUndecidedPerPrefix: z.number().int().min(1).default(32),
    /**
     * How long a connection may stay undecided in total, ms: requests do not extend it (a sender
     * trickling requests is closed at the deadline all the same). Default 10000.
     */
    undecidedDeadlineMs: z.number().int().min(1000).default(10_000),
  })
  .prefault({});

const healthSchema = z
  .strictObject({
    /** Background probe interval, ms. Default 5000. */
    intervalMs: z.number().int().min(100).default(5000),
    /** One probe's deadline, ms. Default 2000. */
    timeoutMs: z.number().int().min(50).default(2000),
    /** Deadline of the fresh probe made right before a redirect, ms. Default 800. */
    redirectProbeTimeoutMs: z.number().int().min(50).default(800),
    /** Consecutive failures before a node is marked down. Default 2. */
    failuresToDown: z.number().int().min(1).default(2),
    /** Consecutive successes before a node is marked up. Default 2. */
    successesToUp: z.number().int().min(1).default(2),
    /**
     * A good result younger than this is fresh enough to redirect on, ms. Default 0: every redirect
     * waits for a probe of its node (one round trip; decisions at the same moment share it), so a node
     * that died a moment ago is never chosen.
     */
    freshMs: z.number().int().min(0).default(0),
    /**
     * Fresh probes of one node start at least this far apart, ms; the redirects decided meanwhile wait
     * for and share the next one (it still starts after each of them). Under a crowd this is what keeps
     * the probes at a few per redirect's worth instead of one each. Default 2; 0: back to back.
     */
    freshProbeGapMs: z.number().int().min(0).max(100).default(2),
  })
  .prefault({});

const apiSchema = z
  .strictObject({
    /** Control API and status page listen address. Default 127.0.0.1:8880. */
    listen: listenSchema.default('127.0.0.1:8880'),
  })
  .prefault({});

const common = {
  /** Haven name (origin) or this node's name. */
  name: nodeNameSchema.default('origin'),
  /** Where secrets and generated files live; relative to the config file. Default `./state`. */
  stateDir: z.string().min(1).default('./state'),
  log: logSchema,
  streams: streamsSchema,
  viewer: viewerSchema,
  public: publicSchema,
  api: apiSchema,
  /** Each plugin's own section, validated by that plugin's schema. */
  plugins: z.record(z.string(), z.unknown()).default({}),
};

export const originConfigSchema = z
  .strictObject({
    role: z.literal('origin'),
    ...common,
    ...placeFields,
    /** Viewers the origin itself takes before it sends everyone to nodes; 0 = unlimited. */
    capacity: z.number().int().min(0).default(0),
    gateway: gatewaySchema,
    health: healthSchema,
    relay: relaySchema,
    /**
     * `private`: the origin opens nothing on a public address (its gateway on loopback), viewers come
     * through entry nodes, and it dials each node's WireGuard endpoint with keepalives (works behind
     * NAT/CGNAT). `public`: its gateway on `public.bind`, viewer URLs name it. Unset: private once the
     * origin has a node, public while it has none (`originExposure`). The gateway's listeners follow at
     * the next start.
     */
    exposure: z.enum(['private', 'public']).optional(),
    nodes: z.array(nodeEntrySchema).default([]),
  })
  .superRefine((v, ctx) => {
    checkPlace(v, ctx, false);
    const names = new Map<string, number>();
    const keys = new Map<string, number>();
    const addrs = new Map<string, number>();
    v.nodes.forEach((n, i) => {
      if (n.name === v.name) ctx.addIssue({ code: 'custom', path: ['nodes', i, 'name'], message: `node name "${n.name}" is the origin's own name` });
      const dup = (map: Map<string, number>, key: string | undefined, field: string, what: string) => {
        if (key === undefined) return;
        const first = map.get(key);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['nodes', i, field], message: `duplicate ${what}: also used by nodes[${first}]` });
        } else map.set(key, i);
      };
      dup(names, n.name, 'name', `node name "${n.name}"`);
      dup(keys, n.publicKey, 'publicKey', 'public key');
      dup(addrs, n.vpnAddress, 'vpnAddress', `VPN address ${n.vpnAddress}`);
    });
  });

export const nodeConfigSchema = z
  .strictObject({
    role: z.literal('node'),
    ...common,
    ...placeFields,
    capacity: z.number().int().min(0).default(0),
  })
  .superRefine((v, ctx) => checkPlace(v, ctx, true));

export const havenConfigSchema = z.discriminatedUnion('role', [originConfigSchema, nodeConfigSchema]);

export type OriginConfig = z.output<typeof originConfigSchema>;
export type NodeConfig = z.output<typeof nodeConfigSchema>;
export type HavenConfig = z.output<typeof havenConfigSchema>;
export type HavenConfigInput = z.input<typeof havenConfigSchema>;
export type GatewayConfig = OriginConfig['gateway'];
export type RelayConfig = OriginConfig['relay'];
export type HealthConfig = OriginConfig['health'];
