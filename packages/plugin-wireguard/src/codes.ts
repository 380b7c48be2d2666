import { createHash } from 'node:crypto';
import { nodeNameSchema, resolveRegion, streamNameSchema } from '@haven/core';
import { z } from 'zod';
import { wgError } from './errors.js';
import { isWireGuardKey } from './keys.js';
import { parseEndpoint } from './render.js';
import { parseSubnet, contains } from './subnet.js';

/**
 * The two join artefacts, as plain strings a person can paste into a chat:
 * `<kind><version>-<base64url JSON>.<check>` where `check` is the first 6 bytes of
 * SHA-256(`<kind><version>-<payload>`) in base64url. Whitespace (chat line wrapping) is ignored.
 */
export const SHARE_CODE_PREFIX = 'havn1-';
export const JOIN_BUNDLE_PREFIX = 'havnjoin1-';

/** Print this next to every join bundle (the CLI does); the bundle itself must never be logged. */
export const JOIN_BUNDLE_WARNING =
  'This join bundle contains passwords (relay and viewer). Send it only to the person running this node, over a private channel, and do not post it publicly. Anyone holding it can join your Haven and watch the stream.';

const KINDS = { havn: 'share code', havnjoin: 'join bundle' } as const;
type Kind = keyof typeof KINDS;
const VERSION = 1;
const INCOMPLETE = 'the code is incomplete or was changed: copy it again';

const keySchema = z.string().refine(isWireGuardKey, 'expected a WireGuard public key');
const credential = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);

/** What a node sends the origin: who it is and where. */
export interface ShareCode {
  publicKey: string;
  region: string;
  /** Suggested node name (`[a-z0-9-]`). */
  name?: string;
  /** Where viewers reach the node: its public RTSP base URL (`rtsp://host:port`). */
  rtsp?: string;
  /** The node's public HLS base URL (`http://host:port`). */
  hls?: string;
}

const shareSchema = z.strictObject({
  publicKey: keySchema,
  region: z.string().min(1).max(64).refine((r) => resolveRegion(r) !== undefined, 'unknown region (use a name such as eu-central, or an ISO country code)'),
  name: nodeNameSchema.optional(),
  rtsp: z.string().regex(/^rtsp:\/\/[^/\s@]+(:\d+)?$/, 'expected rtsp://host:port').optional(),
  hls: z.string().regex(/^https?:\/\/[^/\s@]+(:\d+)?$/, 'expected http://host:port').optional(),
});

/** What the origin sends one node: how to reach the origin over WireGuard and pull the streams. */
export interface JoinBundle {
  origin: {
    /** `host:port` of the origin's WireGuard, reachable from the node. */
    endpoint: string;
    publicKey: string;
    /** Origin VPN address, e.g. `10.77.0.1`. */
    address: string;
  };
  node: {
    name?: string;
    /** The node's VPN address (a /32), e.g. `10.77.0.23`. */
    address: string;
  };
  /** VPN subnet, e.g. `10.77.0.0/24`. */
  subnet: string;
  /** Origin relay over the VPN (secret password). */
  relay: { url: string; user: string; password: string };
  /**
   * What the node's viewers present (secret password). A private origin leaves the password out: its
   * entry nodes check viewers against the Digest HA1 of the routing state and never hold the password.
   */
  viewer: { user: string; password?: string };
  streams: string[];
}

const bundleSchema = z
  .strictObject({
    origin: z.strictObject({ endpoint: z.string(), publicKey: keySchema, address: z.ipv4() }),
    node: z.strictObject({ name: nodeNameSchema.optional(), address: z.ipv4() }),
    subnet: z.string(),
    relay: z.strictObject({
      url: z.string().regex(/^rtsps?:\/\/[^/\s@]+(:\d+)?\/?$/, 'expected rtsp://host:port with no credentials'),
      user: credential,
      password: credential,
    }),
    viewer: z.strictObject({ user: credential, password: credential.optional() }),
    streams: z.array(streamNameSchema).min(1),
  })
  .superRefine((b, ctx) => {
    try {
      parseEndpoint(b.origin.endpoint, 'origin.endpoint');
      const subnet = parseSubnet(b.subnet);
      if (!contains(subnet, b.node.address)) ctx.addIssue({ code: 'custom', path: ['node', 'address'], message: `outside the subnet ${b.subnet}` });
      if (!contains(subnet, b.origin.address)) ctx.addIssue({ code: 'custom', path: ['origin', 'address'], message: `outside the subnet ${b.subnet}` });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    }
  });

function checksum(head: string): string {
  return createHash('sha256').update(head).digest().subarray(0, 6).toString('base64url');
}

function encode(kind: Kind, value: unknown): string {
  const head = `${kind}${VERSION}-${Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')}`;
  return `${head}.${checksum(head)}`;
}

function describeIssues(err: z.ZodError): string {
  // Paths and messages only: values (passwords) never reach the message.
  return err.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
}

function decode(input: string, kind: Kind): unknown {
  const text = String(input ?? '').replace(/[\s`'"]/g, '');
  const m = /^(havnjoin|havn)(\d+)-([A-Za-z0-9_-]*)(?:\.([A-Za-z0-9_-]*))?$/.exec(text);
  if (!m) {
    const prefix = kind === 'havn' ? SHARE_CODE_PREFIX : JOIN_BUNDLE_PREFIX;
    if (text.length === 0) throw wgError('CODE_INVALID', `the ${KINDS[kind]} is empty: paste the whole text starting with ${prefix}`);
    if (text.startsWith('havn')) throw wgError('CODE_INVALID', `${KINDS[kind]}: ${INCOMPLETE}`);
    throw wgError('CODE_INVALID', `this is not a Stream Haven ${KINDS[kind]} (it starts with ${prefix}): copy it again`);
  }
  const [, foundKind, version, payload, check] = m as unknown as [string, Kind, string, string, string | undefined];
  if (foundKind !== kind) {
    throw wgError('CODE_UNSUPPORTED', `this is a ${KINDS[foundKind]}, not a ${KINDS[kind]}: ${kind === 'havn' ? 'the origin needs the share code the node printed' : 'the node needs the join bundle the origin printed'}`);
  }
  if (Number(version) !== VERSION) {
    throw wgError('CODE_UNSUPPORTED', `this ${KINDS[kind]} has version ${version}; this Stream Haven reads version ${VERSION}: update both sides to the same release`);
  }
  if (!check || checksum(`${foundKind}${version}-${payload}`) !== check) {
    throw wgError('CODE_INVALID', `${KINDS[kind]}: ${INCOMPLETE}`);
  }
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
  } catch (err) {
    throw wgError('CODE_INVALID', `${KINDS[kind]}: ${INCOMPLETE}`, { cause: err instanceof Error ? new Error(err.name) : undefined });
  }
}

/** Make a node's share code. Checks the key and region first so a bad code is never handed out. */
export function encodeShareCode(code: ShareCode): string {
  const parsed = shareSchema.safeParse(code);
  if (!parsed.success) throw wgError('CODE_INVALID', `cannot make a share code: ${describeIssues(parsed.error)}`);
  return encode('havn', parsed.data);
}

/** Read a pasted share code. */
export function decodeShareCode(text: string): ShareCode {
  const parsed = shareSchema.safeParse(decode(text, 'havn'));
  if (!parsed.success) throw wgError('CODE_INVALID', `the share code is not valid: ${describeIssues(parsed.error)}; ask the node for a new one`);
  return parsed.data;
}

/** Make a node's join bundle. It holds passwords: show it with JOIN_BUNDLE_WARNING, never log it. */
export function encodeJoinBundle(bundle: JoinBundle): string {
  const parsed = bundleSchema.safeParse(bundle);
  if (!parsed.success) throw wgError('CODE_INVALID', `cannot make a join bundle: ${describeIssues(parsed.error)}`);
  return encode('havnjoin', parsed.data);
}

/** Read a pasted join bundle. */
export function decodeJoinBundle(text: string): JoinBundle {
  const parsed = bundleSchema.safeParse(decode(text, 'havnjoin'));
  if (!parsed.success) throw wgError('CODE_INVALID', `the join bundle is not valid: ${describeIssues(parsed.error)}; ask the origin for a new one`);
  return parsed.data;
}
