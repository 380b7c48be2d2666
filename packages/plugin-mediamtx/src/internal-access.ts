/**
 * The origin's own loopback clients (the ingest sampler, the audio fix's ffmpeg) read and publish
 * with an internal credential: a random password made when the server is created, held in memory
 * only, accepted from loopback addresses over RTSP only. Why not the relay credential: it is
 * long-lived and valid from the VPN; a child process's argv (where ffmpeg needs the URL) is readable
 * by local users, so what goes there must be worth little: this password dies with the process and
 * never works from another machine.
 */
import { randomBytes } from 'node:crypto';
import { normalizeIp } from './net.js';
import type { AuthDecision, AuthRequest } from './auth-policy.js';
import { secretEquals } from './auth-policy.js';

export const INTERNAL_USER = 'haven-internal';

export interface InternalAccess {
  password: string;
  /** Paths it may read (streams and their ingest paths). */
  read: ReadonlySet<string>;
  /** Paths it may publish to (viewer-facing streams fed by the audio fix). */
  publish: ReadonlySet<string>;
  /** Addresses it may come from besides loopback (the RTSP listener's own address when bound to one). */
  localIps?: ReadonlySet<string>;
}

export function internalPassword(): string {
  return randomBytes(24).toString('base64url');
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1)$/;

/** Decide a request that names the internal user. Pure. */
export function decideInternal(req: AuthRequest, access: InternalAccess): AuthDecision {
  const deny = (reason: 'bad-credentials' | 'protocol' | 'subnet' | 'unknown-path'): AuthDecision => ({ allow: false, reason, credentials: true });
  if (!secretEquals(req.password, access.password)) return deny('bad-credentials');
  const ip = normalizeIp(req.ip);
  if (!LOOPBACK.test(ip) && !access.localIps?.has(ip)) return deny('subnet');
  if (req.protocol !== 'rtsp') return deny('protocol');
  const allowed = req.action === 'publish' ? access.publish : req.action === 'read' ? access.read : undefined;
  if (!allowed?.has(req.path)) return deny('unknown-path');
  return { allow: true, as: 'internal' };
}

/** `rtsp://haven-internal:<pass>@<dial address>/<path>`. Never log it. */
export function internalUrl(dial: string, path: string, password: string): string {
  return `rtsp://${INTERNAL_USER}:${encodeURIComponent(password)}@${dial}/${path}`;
}
