import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { NodeCandidate } from '../contracts.js';

/**
 * The routing state an origin hands its entry nodes over the VPN (`GET /api/routing-state` on the
 * report listener): the nodes an entry may send viewers to, with health and load, a verifier of the
 * viewer password, and what the origin learned about players. It carries the Haven's id and a version:
 * a node refuses a state for another Haven and never goes back to an older version.
 *
 * The viewer password is sent as its RTSP Digest HA1, MD5(user:realm:password): an entry checks a
 * Digest answer (and a Basic password, by hashing it) without the clear password. Trade-off: HA1 is
 * password-equivalent for that user and realm (whoever holds it can answer any Digest challenge of the
 * realm), so it is a secret like the password: it travels only inside WireGuard and a node keeps it in
 * memory. It does not reveal the password itself, nor work for another realm or for HLS Basic upstream.
 *
 * It also says whom an entry trusts: the public token key of every node and of the origin (an entry
 * accepts a viewer token only if one of them signed it) and a verifier of each node's pull credential
 * (a relay parent admits only current nodes as children). A node left out of the state is out at once.
 */

const nodeSchema = z
  .object({
    name: z.string().min(1).max(64),
    region: z.string().max(64).optional(),
    location: z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }).strict(),
    rtspUrl: z.string().max(512),
    hlsUrl: z.string().max(512).optional(),
    /** The node's HTTPS HLS base URL: present only while its reports say it serves a CA certificate (see `createHttpsUrlBook`). */
    httpsUrl: z.string().max(512).optional(),
    /** Healthy as the origin probes it now. */
    healthy: z.boolean(),
    capacity: z.number().int().min(0),
    load: z.number().int().min(0),
    /** An entry node: runs the gateway on its public port, its URL is one viewers are given. */
    entry: z.boolean(),
    /** The node's public token key (from its reports): entries accept viewer tokens it signs. Absent: none yet. */
    tokenKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/).optional(),
    /** Verifier of the node's own pull credential (`credentialVerifier`): a relay parent admits it as a child. */
    relayVerifier: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })
  // Fields a newer origin adds are dropped, not refused: see `routingStateSchema`.
  .strip();

const playerSchema = z
  .object({
    userAgent: z.string().max(512),
    served: z.enum(['redirect', 'local']),
  })
  .strict();

/**
 * A network the origin's geo overrides place (`plugins.geo.overrides`): entries locate viewers with
 * these first, so an entry sends a viewer where the origin would. Coordinates or a named region, as
 * the override was written (each node checks them again when it builds its locator).
 */
const placeSchema = z
  .object({
    cidr: z.string().min(1).max(64),
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    region: z.string().min(1).max(64).optional(),
    country: z.string().regex(/^[A-Za-z]{2}$/).optional(),
    city: z.string().min(1).max(128).optional(),
  })
  .strict();

export const routingStateSchema = z
  .object({
    haven: z.string().regex(/^[0-9a-f]{16}$/),
    version: z.number().int().positive(),
    issuedAt: z.number().int().positive(),
    nodes: z.array(nodeSchema).max(1024),
    viewer: z.object({ user: z.string().min(1).max(128), realm: z.string().min(1).max(128), ha1: z.string().regex(/^[0-9a-f]{32}$/) }).strict(),
    players: z.array(playerSchema).max(1024),
    /** The origin's geo overrides (absent: none). */
    places: z.array(placeSchema).max(4096).optional(),
    /** The origin's own public token key: its gateway and probes sign tokens for entries with it. */
    originTokenKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/).optional(),
  })
  // A node may run an older version than its origin: a part of the state it does not know yet (a field
  // a newer origin adds) is dropped, and the node keeps following what it does know.
  .strip();

export type RoutingState = z.infer<typeof routingStateSchema>;
export type RoutingStateNode = z.infer<typeof nodeSchema>;
export type RoutingStatePlace = z.infer<typeof placeSchema>;
export type RoutingStateBody = Omit<RoutingState, 'haven' | 'version' | 'issuedAt'>;

/** A Haven's id: the first 16 hex of SHA-256 over the origin's WireGuard public key (nodes know it from their bundle). */
export function havenIdOf(originPublicKey: string): string {
  return createHash('sha256').update(`stream-haven:${originPublicKey}`).digest('hex').slice(0, 16);
}

/** RTSP Digest HA1 = MD5(user:realm:password) (RFC 2617 §3.2.2.2). */
export function digestHa1(user: string, realm: string, password: string): string {
  return createHash('md5').update(`${user}:${realm}:${password}`).digest('hex');
}

export interface RoutingStatePublisher {
  /** The current state: a new version whenever what `build` answers changed. */
  current(): RoutingState;
  /** The ETag of the current state (`"<haven>-<version>"`). */
  etag(): string;
}

/**
 * Origin side. The version grows with every change of content (and never repeats across restarts:
 * it starts at the clock in ms), so a node can refuse anything older than what it holds.
 */
export function createRoutingStatePublisher(o: { haven: string; build: () => RoutingStateBody; now?: () => number }): RoutingStatePublisher {
  const now = o.now ?? Date.now;
  let state: RoutingState | undefined;
  let digest = '';
  const current = (): RoutingState => {
    const body = o.build();
    const d = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    if (!state || d !== digest) {
      const t = now();
      state = { haven: o.haven, version: Math.max((state?.version ?? 0) + 1, t), issuedAt: t, ...body };
      digest = d;
    }
    return state;
  };
  return { current, etag: () => `"${o.haven}-${current().version}"` };
}

export type RoutingStateRefusal = 'invalid' | 'wrong-haven' | 'stale-version';

export type RoutingStateHealth =
  | { ok: true; version: number; ageMs: number }
  | { ok: false; reason: 'never-received' | 'origin-lost' | RoutingStateRefusal; message: string; version?: number; ageMs?: number };

export interface RoutingStateFollower {
  /** Take a state fetched from the origin. Refused (kept state untouched) when invalid, another Haven's, or older. */
  accept(raw: unknown): { ok: true; changed: boolean } | { ok: false; reason: RoutingStateRefusal; message: string };
  /** The origin answered "not modified": the held state is fresh. */
  touch(): void;
  /** The held state, if any (whatever its age: check `health()` before sending viewers anywhere). */
  state(): RoutingState | undefined;
  /** Whether the held state may be used, and what is wrong if not. */
  health(): RoutingStateHealth;
}

/**
 * Node side. `maxAgeMs`: a state not confirmed by the origin for this long means the origin is lost;
 * the entry then stops sending viewers to itself (its own stream is fed by the origin too).
 */
export function createRoutingStateFollower(o: { haven: string; maxAgeMs: number; now?: () => number }): RoutingStateFollower {
  const now = o.now ?? Date.now;
  let held: RoutingState | undefined;
  let confirmedAt = 0;
  let lastRefusal: { reason: RoutingStateRefusal; message: string; at: number } | undefined;
  const refuse = (reason: RoutingStateRefusal, message: string) => {
    lastRefusal = { reason, message, at: now() };
    return { ok: false as const, reason, message };
  };
  return {
    accept(raw) {
      const parsed = routingStateSchema.safeParse(raw);
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        return refuse('invalid', `the origin's routing state is invalid at ${i?.path.join('.') || '(root)'}: ${i?.message ?? 'unknown'}; is the origin the same version as this node?`);
      }
      const s = parsed.data;
      if (s.haven !== o.haven) {
        return refuse('wrong-haven', `a routing state for another Haven (${s.haven}, this node joined ${o.haven}) was refused; re-join with a bundle from your origin (\`haven node join\`)`);
      }
      if (held && s.version < held.version) {
        return refuse('stale-version', `a routing state older (version ${s.version}) than the one held (${held.version}) was refused`);
      }
      const changed = !held || s.version !== held.version;
      held = s;
      confirmedAt = now();
      lastRefusal = undefined;
      return { ok: true, changed };
    },
    touch() {
      if (held) confirmedAt = now();
    },
    state: () => held,
    health() {
      const t = now();
      if (lastRefusal && t - lastRefusal.at < o.maxAgeMs) {
        return { ok: false, reason: lastRefusal.reason, message: lastRefusal.message, ...(held ? { version: held.version, ageMs: t - confirmedAt } : {}) };
      }
      if (!held) return { ok: false, reason: 'never-received', message: 'no routing state from the origin yet: is the WireGuard tunnel up (`haven status` on the origin)?' };
      const ageMs = t - confirmedAt;
      if (ageMs > o.maxAgeMs) {
        return {
          ok: false,
          reason: 'origin-lost',
          message: `the origin has not answered for ${Math.round(ageMs / 1000)} s: this entry sends no viewer to itself until it is back`,
          version: held.version,
          ageMs,
        };
      }
      return { ok: true, version: held.version, ageMs };
    },
  };
}

/**
 * The candidates an entry routes among: the healthy nodes of the state. An entry whose state is not
 * fresh (origin lost, refused) leaves itself out: its own copy of the stream comes from the origin.
 */
export function entryCandidates(state: RoutingState | undefined, self: string, fresh: boolean): NodeCandidate[] {
  if (!state) return [];
  return state.nodes
    .filter((n) => n.healthy && (fresh || n.name !== self))
    .map((n) => ({
      node: {
        name: n.name,
        location: n.location,
        rtspUrl: n.rtspUrl,
        capacity: n.capacity,
        ...(n.region ? { region: n.region } : {}),
        ...(n.hlsUrl ? { hlsUrl: n.hlsUrl } : {}),
      },
      health: 'up' as const,
      load: n.load,
    }));
}
