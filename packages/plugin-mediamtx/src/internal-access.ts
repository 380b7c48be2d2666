/**
 * The plugin's own clients use two internal credentials, random passwords made when the server is
 * created and held in memory only:
 * - the media password: the origin's loopback media clients (the ingest sampler, the audio fix's
 *   ffmpeg) read and publish with it, from loopback addresses over RTSP only, on the paths listed.
 *   A child process's argv (where ffmpeg and ffprobe need the URL) is readable by local users, so
 *   this one must be worth little: it dies with the process, never works from another machine,
 *   and opens no door that a viewer on this machine does not have.
 * - the API password: the Control API and metrics client. It never goes into a child's argv.
 * Why not the relay credential: it is long-lived and valid from the VPN.
 */
import { randomBytes } from 'node:crypto';
import { normalizeIp } from '@haven/core';
import { secretEquals, type AuthDecision, type AuthRequest } from './auth-request.js';

export const INTERNAL_USER = 'haven-internal';

export interface InternalAccess {
  /** Media (RTSP) password: may appear in a child process's argv. */
  password: string;
  /** Control API and metrics password: never leaves this process. */
  apiPassword: string;
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
