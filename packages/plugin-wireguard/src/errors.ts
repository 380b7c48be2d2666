import { HavenError } from '@haven/core';

/** Every error code this plugin raises, in one place. */
export const WireGuardErrorCodes = {
  /** Options given in code or in `plugins.wireguard` are invalid. */
  OPTIONS_INVALID: 'OPTIONS_INVALID',
  /** A WireGuard key is not 32 bytes of base64 (truncated, mistyped). */
  KEY_INVALID: 'KEY_INVALID',
  /** The stored private key file is unreadable or not a key. */
  KEY_STORE: 'KEY_STORE',
  /** The VPN subnet is not a private IPv4 CIDR with a usable size. */
  SUBNET_INVALID: 'SUBNET_INVALID',
  /** An address asked for lies outside the VPN subnet. */
  ADDRESS_OUTSIDE_SUBNET: 'ADDRESS_OUTSIDE_SUBNET',
  /** An address asked for is the network, broadcast or origin address. */
  ADDRESS_RESERVED: 'ADDRESS_RESERVED',
  /** An address asked for already belongs to another node. */
  ADDRESS_TAKEN: 'ADDRESS_TAKEN',
  /** Every address of the subnet is allocated. */
  SUBNET_FULL: 'SUBNET_FULL',
  /** A public key already belongs to another node (or is this side's own key). */
  DUPLICATE_KEY: 'DUPLICATE_KEY',
  /** The address allocations file is unreadable or does not match the subnet. */
  STATE_CORRUPT: 'STATE_CORRUPT',
  /** A share code or join bundle was truncated or changed. */
  CODE_INVALID: 'CODE_INVALID',
  /** A share code or join bundle from another (newer) version or of the other kind. */
  CODE_UNSUPPORTED: 'CODE_UNSUPPORTED',
  /** `wg`, `wireguard-go` or `ip` is not installed. */
  TOOL_MISSING: 'TOOL_MISSING',
  /** `ip`/`wg` were refused: not root and no CAP_NET_ADMIN. */
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  /** A `wg`/`ip` command failed for another reason. */
  COMMAND_FAILED: 'COMMAND_FAILED',
  /** `wireguard-go` did not come up, or exited while the interface was up. */
  USERSPACE_FAILED: 'USERSPACE_FAILED',
  /** The node role lacks what joining needs (its address, the origin's key and endpoint). */
  NOT_JOINED: 'NOT_JOINED',
} as const;

export type WireGuardErrorCode = (typeof WireGuardErrorCodes)[keyof typeof WireGuardErrorCodes];

export const PLUGIN = 'wireguard';

/** A HavenError from this plugin. Messages must never contain a private key or a password. */
export function wgError(
  code: WireGuardErrorCode,
  message: string,
  extra: { cause?: unknown; details?: Record<string, unknown> } = {},
): HavenError<WireGuardErrorCode> {
  return new HavenError(message, { code, plugin: PLUGIN, ...extra });
}
