// What MediaMTX asks and what the plugin answers: shared by the policy, the internal access and the
// token check, which each decide a part of one request.
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** The body MediaMTX POSTs to `authHTTPAddress` (v1.13+; `userAgent` v1.19+). Extra fields are tolerated. */
export const authRequestSchema = z.looseObject({
  ip: z.string().max(64),
  user: z.string().max(1024),
  password: z.string().max(1024),
  token: z.string().max(4096).optional(),
  action: z.string().max(32),
  path: z.string().max(1024),
  protocol: z.string().max(32),
  id: z.string().max(64).nullable().optional(),
  query: z.string().max(4096).optional(),
  userAgent: z.string().max(1024).optional(),
});

export type AuthRequest = z.infer<typeof authRequestSchema>;

export type AuthIdentity = 'publisher' | 'viewer' | 'relay' | 'internal';

export type DenyReason =
  | 'no-credentials'
  | 'bad-credentials'
  | 'unknown-action'
  | 'unknown-path'
  | 'protocol'
  | 'subnet'
  | 'role'
  | 'rate-limited'
  | 'bad-token'
  | 'not-ready';

export type AuthDecision =
  | { allow: true; as: AuthIdentity; /** A viewer admitted by the gateway's signed token (no password checked). */ via?: 'token' }
  | { allow: false; reason: DenyReason; /** The request carried a user or password. */ credentials: boolean };

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time string equality (hashes first so lengths do not leak either). */
export function secretEquals(given: string, expected: string): boolean {
  const ok = timingSafeEqual(digest(given), digest(expected));
  return ok && expected.length > 0;
}
