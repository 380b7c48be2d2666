/**
 * Every request and response body of the control API, as zod schemas. Handlers parse requests with
 * them and pass every response through them (unknown fields are stripped, so nothing the deps add by
 * mistake, such as a raw IP, leaks). The OpenAPI document is generated from these same schemas.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { nodeEntrySchema, nodeNameSchema, streamNameSchema } from '@haven/core';
import { vrchatVerdictSchema } from './ingest-schema.js';

/** Schemas that appear in request bodies (documented as their input shape). */
export const requestSchemas = z.registry<{ id: string; description?: string }>();
/** Schemas that appear in response bodies (documented as their output shape). */
export const responseSchemas = z.registry<{ id: string; description?: string }>();

const count = z.number().int().min(0);
const healthState = z.enum(['up', 'down', 'unknown']);
const routeMode = z.enum(['redirect', 'splice', 'hls-playlist', 'hls-redirect']);

// ----------------------------------------------------------------------------------------------
// Requests
// ----------------------------------------------------------------------------------------------

requestSchemas.add(nodeEntrySchema, { id: 'NodeEntry', description: 'A node to add live, as in the `nodes:` list of haven.yaml.' });

export const routeRequestSchema = z
  .strictObject({
    ip: z.string().refine((v) => isIP(v) !== 0, 'expected an IPv4 or IPv6 address'),
    userAgent: z.string().max(512).optional(),
    /** Default: the first stream. */
    stream: streamNameSchema.optional(),
  })
  .register(requestSchemas, { id: 'RouteRequest', description: 'A viewer to route in a dry run.' });

export const secretNameSchema = z.enum(['streamKey', 'viewerPassword', 'relayPassword']);

export const rotateRequestSchema = z
  .strictObject({ name: secretNameSchema })
  .register(requestSchemas, { id: 'RotateRequest', description: 'The secret to replace with a new random value.' });

export const nodeReportSchema = z
  .strictObject({
    node: nodeNameSchema,
    streams: z
      .array(
        z.strictObject({
          name: streamNameSchema,
          ready: z.boolean(),
          readers: count,
          bytesIn: count.default(0),
          bytesOut: count.default(0),
          /** Addresses of readers new since the previous report (the origin matches them to its redirects). */
          arrivals: z
            .array(z.string().max(64).refine((v) => isIP(v) !== 0, 'expected an IPv4 or IPv6 address'))
            .max(256)
            .optional(),
        }),
      )
      .max(64),
    uptimeSec: z.number().min(0).optional(),
    /**
     * The node's own HTTPS HLS base URL (e.g. `https://203.0.113.7:8443`), sent only while it serves a CA
     * certificate for its address: the origin offers it to entries' HTTPS doors (Quest viewers).
     */
    httpsUrl: z.string().max(512).regex(/^https:\/\/[^/?#@]+$/, 'expected https://<host>:<port> with no path').optional(),
    /** The node's public viewer token key (Ed25519, base64url of the raw 32 bytes): the origin hands it to every entry. */
    tokenKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected an Ed25519 public key, base64url (43 characters)').optional(),
  })
  .register(requestSchemas, { id: 'NodeReport', description: "A node's readers and bytes, sent to the origin over the VPN." });

export type NodeReport = z.output<typeof nodeReportSchema>;

export const decisionsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

export const viewersQuerySchema = z.object({
  windowSec: z.coerce.number().int().min(1).max(7 * 24 * 3600).optional(),
});

// ----------------------------------------------------------------------------------------------
// Responses
// ----------------------------------------------------------------------------------------------

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
    }),
  })
  .register(responseSchemas, { id: 'Error' });

const point = z.object({ lat: z.number(), lon: z.number() });

export const nodeViewSchema = z
  .object({
    name: z.string(),
    origin: z.boolean(),
    region: z.string().optional(),
    /** null when the node has no usable place. */
    location: point.nullable(),
    rtspUrl: z.string(),
    hlsUrl: z.string().optional(),
    /** The node's HTTPS HLS base URL while its reports say it serves a CA certificate (`tls` on the node). */
    httpsUrl: z.string().optional(),
    capacity: count,
    health: healthState,
    viewers: count,
    /** viewers / capacity; null when capacity is unlimited. */
    load: z.number().min(0).nullable(),
    rttMs: z.number().optional(),
    lastProbeAgoMs: z.number().optional(),
    /** Why the node is down, as the probe said it (secret-free). */
    reason: z.string().optional(),
    vpnAddress: z.string().optional(),
    handshakeAgeSec: z.number().optional(),
    /** Set when the node's own report is fresh. */
    reportedAgoMs: z.number().optional(),
  })
  .register(responseSchemas, { id: 'Node' });

export type NodeView = z.output<typeof nodeViewSchema>;

export const streamViewSchema = z
  .object({
    name: z.string(),
    ready: z.boolean(),
    /** Readers on the origin's media server. */
    readers: count,
    /** Readers on every node, origin included (from reports and probes). */
    viewers: count,
    bytesIn: count,
    bytesOut: count,
    tracks: z.array(z.string()),
    sourceType: z.string().optional(),
    /** The VRChat ingest check of a live stream (absent while offline or not checked yet). */
    vrchat: vrchatVerdictSchema
      .register(responseSchemas, {
        id: 'VrchatVerdict',
        description: "What OBS sends, judged against VRChat's players, with the OBS setting to change.",
      })
      .optional(),
  })
  .register(responseSchemas, { id: 'Stream' });

export type StreamView = z.output<typeof streamViewSchema>;

export const linkSchema = z
  .object({
    /** null for the gateway's own link (routes to the nearest node). */
    node: z.string().nullable(),
    region: z.string().optional(),
    stream: z.string(),
    rtsp: z.string(),
    /** HTTP HLS, or HTTPS HLS for a node that serves a CA certificate now. */
    hls: z.string().optional(),
    /** An entry with a certificate: its HTTPS entry on port 443, which sends Quest on to the nearest node's HTTPS. */
    quest: z.string().optional(),
  })
  .register(responseSchemas, { id: 'Link' });

export type LinkView = z.output<typeof linkSchema>;

export const playerViewSchema = z
  .object({
    /** As the player sent it (trimmed); `(none)` when it sent none. */
    userAgent: z.string(),
    redirects: count,
    /** Reached the node it was sent to (the node reported it). */
    followed: count,
    /** Asked again on the same connection and was served by the gateway's host (androidx/media3). */
    sameConnection: count,
    /** Neither came back nor reached the node in time. */
    notFollowed: count,
    /** followed / (followed + notFollowed), absent before any outcome. */
    followRate: z.number().min(0).max(1).optional(),
    /** What the next viewer with this User-Agent gets. */
    served: z.enum(['redirect', 'local']),
    why: z.enum(['pinned-local', 'pinned-redirect', 'learned-local', 'default']),
    /**
     * What a learned verdict rests on: outcomes within the learning window, how many were followed,
     * how many distinct networks (IPv4 /24, IPv6 /48) did not follow, and when (epoch ms). No address.
     */
    evidence: z.object({ outcomes: count, followed: count, prefixes: count, firstAt: z.number(), lastAt: z.number() }).optional(),
    /** Viewers who proved the password with Basic (in clear) and with Digest. */
    basic: count,
    digest: count,
  })
  .register(responseSchemas, { id: 'Player' });

export const relayTreeViewSchema = z
  .object({
    origin: z.string(),
    /** Nodes the origin feeds directly; null = unlimited. */
    originBudget: count.nullable(),
    /** The stream's bitrate at the origin, bit/s (absent until measured). */
    bitrateBps: count.optional(),
    depth: count,
    originChildren: count,
    edges: z.array(z.object({ node: z.string(), parent: z.string(), depth: count, bitrateBps: count.optional() })),
    /** Up nodes no parent has room for. */
    unplaced: z.array(z.string()),
    demoted: z.array(z.object({ node: z.string(), reason: z.string(), until: z.number() })),
  })
  .register(responseSchemas, { id: 'RelayTree', description: 'Who feeds whom: each node pulls the stream from its parent (the origin at depth 1).' });

export const relayAssignmentSchema = z
  .object({
    parent: z.object({ parent: z.string(), origin: z.boolean(), host: z.string(), port: z.number().int(), depth: count }).nullable(),
    peers: z.array(z.object({ name: z.string(), publicKey: z.string(), allowedIps: z.array(z.string()), endpoint: z.string().optional() })),
  })
  .register(responseSchemas, { id: 'RelayAssignment', description: "A node's relay parent (where it pulls over the VPN) and the nodes it peers with directly." });

export const statusViewSchema = z
  .object({
    name: z.string(),
    state: z.string(),
    uptimeSec: z.number().optional(),
    /** Log lines written, and dropped while the log reader stalled (the log never blocks the Haven). */
    log: z.object({ written: count, dropped: count, writtenBytes: count, droppedBytes: count }).optional(),
    streams: z.array(streamViewSchema),
    /** The origin node's name (null if the origin does not serve viewers itself). */
    origin: z.string().nullable(),
    nodes: z.array(nodeViewSchema),
    /** Links to share, without credentials: the gateway's (auto) and each node's (by region). */
    links: z.array(linkSchema),
    totals: z.object({ nodes: count, nodesUp: count, viewers: count }),
    /** Per player: follow-through of redirects and auth schemes (RTSP gateway). */
    players: z.array(playerViewSchema).optional(),
    /** Viewers that proved the password with Basic (sent in clear) and with Digest, since start. */
    auth: z.object({ basic: count, digest: count }).optional(),
    relay: relayTreeViewSchema.optional(),
    /**
     * The origin's exposure now (`private`: viewers through entry nodes only), why, and, while the
     * running gateway still listens as it did at start, what changes at the next `haven start`.
     */
    exposure: z.object({ mode: z.enum(['private', 'public']), why: z.string(), change: z.string().optional() }).optional(),
  })
  .register(responseSchemas, { id: 'Status' });

export type StatusView = z.output<typeof statusViewSchema>;

export const decisionViewSchema = z
  .object({
    at: z.string().describe('ISO time'),
    stream: z.string(),
    node: z.string(),
    mode: routeMode,
    reason: z.string(),
    country: z.string().optional(),
    city: z.string().optional(),
    distanceKm: z.number().optional(),
    decisionMs: z.number(),
    /** The player's product token from its User-Agent (`Lavf`, `LibVLC`...). */
    player: z.string().optional(),
    /** How the viewer proved the password at the gateway (RTSP): `digest`, or `basic` (in clear). */
    auth: z.enum(['basic', 'digest']).optional(),
  })
  .register(responseSchemas, { id: 'Decision', description: 'A routing decision; never carries the viewer IP.' });

export type DecisionView = z.output<typeof decisionViewSchema>;

const counts = z.record(z.string(), count);

export const decisionSummarySchema = z
  .object({
    since: z.string(),
    total: count,
    byNode: counts,
    byReason: counts,
    byMode: counts,
    byCountry: counts,
    /** Over the recent decisions kept in memory. */
    decisionMs: z.object({ p50: z.number(), p95: z.number(), max: z.number() }).nullable(),
  })
  .register(responseSchemas, { id: 'DecisionSummary' });

export type DecisionSummary = z.output<typeof decisionSummarySchema>;

export const viewersViewSchema = z
  .object({
    windowSec: z.number(),
    total: count,
    /** Viewers routed in the window, by city (or country when the city is unknown). */
    places: z.array(
      z.object({
        country: z.string().optional(),
        city: z.string().optional(),
        /** Rounded to 0.1 degree; absent when the place is unknown. */
        lat: z.number().optional(),
        lon: z.number().optional(),
        viewers: count,
        nodes: counts,
      }),
    ),
  })
  .register(responseSchemas, { id: 'Viewers', description: 'Viewer places, aggregated; no IPs.' });

export type ViewersView = z.output<typeof viewersViewSchema>;

export const routeExplainSchema = z
  .object({
    stream: z.string(),
    viewer: z
      .object({ lat: z.number(), lon: z.number(), country: z.string().optional(), city: z.string().optional(), source: z.string().optional() })
      .optional(),
    mode: routeMode,
    reason: z.string(),
    node: z.string().optional(),
    target: z.string().optional(),
    candidates: z.array(
      z.object({
        node: z.string(),
        health: healthState,
        load: z.number(),
        distanceKm: z.number().optional(),
        skipped: z.string().optional(),
      }),
    ),
  })
  .register(responseSchemas, { id: 'RouteExplain' });

export const urlsViewSchema = z
  .object({
    viewer: z.object({
      user: z.string(),
      password: z.string(),
      /** Same links as in the status, with the viewer credentials in them. */
      links: z.array(linkSchema),
    }),
    publish: z.array(
      z.object({
        stream: z.string(),
        rtmp: z.object({ url: z.string(), obsServer: z.string(), obsStreamKey: z.string() }).optional(),
        srt: z.string().optional(),
      }),
    ),
  })
  .register(responseSchemas, { id: 'Urls', description: 'Secret-bearing URLs. Token required.' });

export type UrlsView = z.output<typeof urlsViewSchema>;

export const nodeAddedSchema = z.object({ node: nodeViewSchema }).register(responseSchemas, { id: 'NodeAdded' });
export const nodeRemovedSchema = z.object({ removed: z.string() }).register(responseSchemas, { id: 'NodeRemoved' });
export const rotatedSchema = z.object({ rotated: secretNameSchema }).register(responseSchemas, { id: 'Rotated' });
/** `POST /api/players/reset`: one player by its User-Agent as the status shows it, or every player. */
export const playersResetRequestSchema = z
  .strictObject({ userAgent: z.string().min(1).max(200).optional() })
  .register(requestSchemas, { id: 'PlayersResetRequest', description: 'The player to forget (its User-Agent as the status shows it); none: every player.' });
export const playersResetSchema = z
  .object({ cleared: count, userAgent: z.string().optional() })
  .register(responseSchemas, { id: 'PlayersReset', description: 'How many players the gateway forgot (their counts, outcomes and learned verdicts).' });
/** What a node needs to keep serving after a rotation on the origin (relay-credential protected). */
export const nodeSecretsSchema = z
  // `relayPassword`: the asking node's own credential (named so for nodes that joined before there was one).
  .object({ viewerUser: z.string(), viewerPassword: z.string(), relayPassword: z.string().optional() })
  .register(responseSchemas, { id: 'NodeSecrets', description: "The origin's current viewer credentials, for its nodes over the VPN." });
export const reportAcceptedSchema = z.object({ accepted: z.literal(true) }).register(responseSchemas, { id: 'ReportAccepted' });
export const nodesViewSchema = z.object({ nodes: z.array(nodeViewSchema) }).register(responseSchemas, { id: 'Nodes' });
export const streamsViewSchema = z.object({ streams: z.array(streamViewSchema) }).register(responseSchemas, { id: 'Streams' });
export const decisionsViewSchema = z
  .object({ decisions: z.array(decisionViewSchema) })
  .register(responseSchemas, { id: 'Decisions', description: 'Newest first.' });

/** The `snapshot` event of `GET /api/events` (Server-Sent Events). */
export const snapshotSchema = z
  .object({ status: statusViewSchema, decisions: z.array(decisionViewSchema), viewers: viewersViewSchema })
  .register(responseSchemas, { id: 'Snapshot' });

export type Snapshot = z.output<typeof snapshotSchema>;
