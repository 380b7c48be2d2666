import { z } from 'zod';
import { wgError } from './errors.js';
import { isWireGuardKey } from './keys.js';
import { parseEndpoint } from './render.js';
import { parseSubnet } from './subnet.js';

const valid = (check: (v: string) => unknown) => (v: string) => {
  try {
    check(v);
    return true;
  } catch {
    return false;
  }
};

const endpoint = z.string().refine(valid((v) => parseEndpoint(v)), 'expected host:port, e.g. 198.51.100.7:51820');

/** Options of `wireguard()`, also accepted under `plugins.wireguard` in haven.yaml. */
export const wireguardOptionsSchema = z.strictObject({
  /** VPN subnet (private IPv4, /8-/30). Default `10.77.0.0/24`. */
  subnet: z.string().refine(valid(parseSubnet), 'expected a private IPv4 subnet such as 10.77.0.0/24').default('10.77.0.0/24'),
  /** UDP port WireGuard listens on. Default 51820. */
  listenPort: z.number().int('expected 1-65535').min(1, 'expected 1-65535').max(65535, 'expected 1-65535').default(51820),
  /** Interface name, at most 15 chars. Default `hv` + a hash of this side's public key. */
  interfaceName: z.string().regex(/^[A-Za-z0-9_.=+-]{1,15}$/, 'expected 1-15 letters, digits or _.=+-').optional(),
  /** Origin: public `host:port` of this WireGuard that nodes dial. Default `<public.host>:<listenPort>`. */
  endpoint: endpoint.optional(),
  /** Interface MTU. Default 1420. */
  mtu: z.number().int('expected 1280-9000').min(1280, 'expected 1280-9000').max(9000, 'expected 1280-9000').default(1420),
  /** Run `ip`/`wg`/`wireguard-go` inside this network namespace (tests, multi-tenant hosts). */
  netns: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a network namespace name').optional(),
  /** Node: PersistentKeepalive towards the origin in seconds, 0 = off. Default 25. */
  keepaliveSec: z.number().int('expected 0-65535').min(0, 'expected 0-65535').max(65535, 'expected 0-65535').default(25),
  /** This side's VPN address. Origin default: the subnet's first host (10.77.0.1). Node: from the join bundle. */
  address: z.ipv4('expected an IPv4 address').optional(),
  /** Node: the origin to join, from the join bundle. */
  origin: z
    .strictObject({
      publicKey: z.string().refine(isWireGuardKey, 'expected a WireGuard public key (44 chars of base64)'),
      endpoint,
      /** Default: the subnet's first host. */
      address: z.ipv4('expected an IPv4 address').optional(),
    })
    .optional(),
  /** `auto` (default): kernel WireGuard when available, else wireguard-go. */
  implementation: z.enum(['auto', 'kernel', 'userspace']).default('auto'),
  /** Paths of the tools when they are not on PATH. */
  tools: z.strictObject({ ip: z.string().min(1).optional(), wg: z.string().min(1).optional(), wireguardGo: z.string().min(1).optional() }).optional(),
});

export type WireGuardOptionsInput = z.input<typeof wireguardOptionsSchema>;
export type WireGuardOptions = z.output<typeof wireguardOptionsSchema>;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return `"${v.length > 60 ? `${v.slice(0, 60)}…` : v}"`;
  if (typeof v === 'object') return Array.isArray(v) ? 'a list' : v === null ? 'null' : 'a map';
  return String(v);
}

function at(root: unknown, path: PropertyKey[]): unknown {
  let cur = root;
  for (const k of path) cur = cur && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k as string] : undefined;
  return cur;
}

/** Check options given in code, once, in the factory: `[haven/wireguard] listenPort: expected 1-65535, got 0`. */
export function checkOptions(options: unknown): WireGuardOptions {
  const parsed = wireguardOptionsSchema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const path = i.path.map(String).join('.') || '(options)';
    if (i.code === 'unrecognized_keys') return `${path === '(options)' ? '' : `${path}.`}${i.keys.join(', ')}: unknown option`;
    return `${path}: ${i.message.replace(/^Invalid input: /, '')}, got ${describe(at(options, i.path))}`;
  });
  throw wgError('OPTIONS_INVALID', problems.join('; '), { details: { problems } });
}
