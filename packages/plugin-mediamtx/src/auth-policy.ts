import { normalizeIp, type HavenSecrets, type ViewerTokenKey } from '@haven/core';
import type { SubnetMatcher } from './net.js';
import { PUBLISHER_USER, RELAY_USER, type Role } from './render.js';
import { decideInternal, INTERNAL_USER, type InternalAccess } from './internal-access.js';
import { checkViewerToken } from './token-check.js';
import { secretEquals, type AuthDecision, type AuthRequest, type DenyReason } from './auth-request.js';

/** Who may do what, recomputed whenever streams or options change. */
export interface AuthPolicy {
  role: Role;
  streams: ReadonlySet<string>;
  viewerUser: string;
  publishAnyUser: boolean;
  publishProtocols: ReadonlySet<string>;
  readProtocols: ReadonlySet<string>;
  relaySubnets: SubnetMatcher;
  /**
   * The plugin's own internal credential (random per process, user `haven-internal`): the Control API
   * and metrics client, and on an origin its loopback media clients (ingest sampler, audio fix; see
   * internal-access.ts). Undefined: api/metrics denied.
   */
  internal?: InternalAccess;
  /** Paths a publisher may publish to besides the streams (the audio fix's ingest paths). */
  ingestPaths?: ReadonlySet<string>;
  /** This machine's node name as the origin's registry knows it: viewer tokens are bound to it. */
  nodeName?: string;
  /** Verifies viewer tokens (this machine's own key and the keys it accepts now). Absent: tokens are refused. */
  tokenKey?: ViewerTokenKey;
  /**
   * Checks a relay pull's password (user `relay`) in place of the stored relay password: each node pulls
   * with its own credential (the origin knows every current node's; a relay parent gets verifiers in its
   * routing state). `undefined` as a verdict: the stored relay password decides.
   */
  relayCheck?: (password: string) => boolean | undefined;
  /**
   * Node role: whether a stream has its real source now. A viewer path that plays MediaMTX's offline
   * segment (`alwaysAvailable`) is not the stream: new readers (viewers, the origin's probe, relay
   * children) are refused until it is back; readers already playing stay.
   */
  online?: (stream: string) => boolean;
  /**
   * Node role: checks a viewer's user and password in place of the stored viewer password (an entry
   * node of a private origin holds only the Digest HA1 of the routing state). `undefined`: no verdict
   * (no state yet), the stored password decides.
   */
  viewerCheck?: (user: string, password: string) => boolean | undefined;
}

/**
 * Decide one MediaMTX auth request. Pure: the caller passes the current secrets, so a rotation takes
 * effect on the next request. Anything not understood is denied.
 */
export function decide(req: AuthRequest, policy: AuthPolicy, secrets: HavenSecrets): AuthDecision {
  const d = decideAccess(req, policy, secrets);
  if (d.allow && req.action === 'read' && d.as !== 'internal' && policy.online && !policy.online(req.path)) {
    // Not a credential failure: not counted against the address.
    return { allow: false, reason: 'not-ready', credentials: false };
  }
  return d;
}

function decideAccess(req: AuthRequest, policy: AuthPolicy, secrets: HavenSecrets): AuthDecision {
  const credentials = req.user !== '' || req.password !== '';
  const deny = (reason: DenyReason): AuthDecision => ({ allow: false, reason, credentials });

  if (req.action === 'api' || req.action === 'metrics') {
    // Only the plugin's own client: the per-process internal API credential (Basic), never a viewer's,
    // nor the internal media password (which child processes carry in their argv).
    const internal = policy.internal;
    if (!credentials) return deny('no-credentials');
    const ok = internal !== undefined && req.user === INTERNAL_USER && secretEquals(req.password, internal.apiPassword);
    return ok ? { allow: true, as: 'internal' } : deny('bad-credentials');
  }
  if (req.action !== 'publish' && req.action !== 'read') {
    // playback/pprof are off.
    return deny('unknown-action');
  }
  const token = policy.nodeName === undefined ? undefined : checkViewerToken(req, policy.nodeName, policy.tokenKey);
  if (token !== undefined) {
    if (!policy.streams.has(req.path)) return deny('unknown-path');
    return token === 'ok' ? { allow: true, as: 'viewer', via: 'token' } : { allow: false, reason: 'bad-token', credentials: true };
  }
  if (!credentials) return deny('no-credentials');
  if (policy.internal && req.user === INTERNAL_USER) return decideInternal(req, policy.internal);
  const ingest = req.action === 'publish' && policy.ingestPaths?.has(req.path) === true;
  if (!policy.streams.has(req.path) && !ingest) return deny('unknown-path');

  if (req.action === 'publish') {
    if (policy.role !== 'origin') return deny('role');
    if (!policy.publishProtocols.has(req.protocol)) return deny('protocol');
    const keyOk = secretEquals(req.password, secrets.streamKey);
    const userOk = req.user === PUBLISHER_USER || (policy.publishAnyUser && req.user !== RELAY_USER && req.user !== policy.viewerUser && req.user !== INTERNAL_USER);
    return keyOk && userOk ? { allow: true, as: 'publisher' } : deny('bad-credentials');
  }

  if (req.user === RELAY_USER) {
    // The origin feeds its nodes; a node feeds the nodes the relay tree gives it (same VPN subnet rule).
    const passOk = policy.relayCheck?.(req.password) ?? secretEquals(req.password, secrets.relayPassword);
    if (!passOk) return deny('bad-credentials');
    if (req.protocol !== 'rtsp') return deny('protocol');
    if (!policy.relaySubnets.contains(normalizeIp(req.ip))) return deny('subnet');
    return { allow: true, as: 'relay' };
  }
  const passOk = policy.viewerCheck?.(req.user, req.password) ?? secretEquals(req.password, secrets.viewerPassword);
  if (req.user !== policy.viewerUser || !passOk) return deny('bad-credentials');
  if (!policy.readProtocols.has(req.protocol)) return deny('protocol');
  return { allow: true, as: 'viewer' };
}

export interface FailureEntry {
  ip: string;
  /** Failures inside the window. */
  count: number;
  /** Epoch ms of the latest failure. */
  lastAt: number;
}

/**
 * Failed-auth counts per IP over a sliding window (the gateway rate-limits on them). Bounded: at most
 * `maxIps` addresses (least recently failing dropped first) and `maxPerIp` timestamps each.
 */
export class FailureCounter {
  readonly #byIp = new Map<string, number[]>();

  constructor(
    readonly windowMs = 60_000,
    readonly maxIps = 10_000,
    readonly maxPerIp = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  record(ip: string): number {
    const key = normalizeIp(ip);
    const t = this.now();
    const list = this.#trim(this.#byIp.get(key) ?? [], t);
    list.push(t);
    if (list.length > this.maxPerIp) list.splice(0, list.length - this.maxPerIp);
    this.#byIp.delete(key);
    this.#byIp.set(key, list);
    while (this.#byIp.size > this.maxIps) {
      const oldest = this.#byIp.keys().next().value;
      if (oldest === undefined) break;
      this.#byIp.delete(oldest);
    }
    return list.length;
  }

  /** Failures from this IP within the window. */
  count(ip: string): number {
    const key = normalizeIp(ip);
    const list = this.#byIp.get(key);
    if (!list) return 0;
    const trimmed = this.#trim(list, this.now());
    if (trimmed.length === 0) this.#byIp.delete(key);
    else this.#byIp.set(key, trimmed);
    return trimmed.length;
  }

  snapshot(): FailureEntry[] {
    const t = this.now();
    const out: FailureEntry[] = [];
    for (const [ip, list] of this.#byIp) {
      const trimmed = this.#trim(list, t);
      const last = trimmed[trimmed.length - 1];
      if (last !== undefined) out.push({ ip, count: trimmed.length, lastAt: last });
    }
    return out.sort((a, b) => b.count - a.count);
  }

  clear(): void {
    this.#byIp.clear();
  }

  #trim(list: number[], t: number): number[] {
    const from = t - this.windowMs;
    let i = 0;
    while (i < list.length && (list[i] ?? 0) <= from) i++;
    return i === 0 ? list : list.slice(i);
  }
}
