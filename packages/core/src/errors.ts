/**
 * One error class for the whole Haven. Every failure carries a typed `code`, the `plugin` (or core
 * area) it came from, and the original `cause`. Messages say what failed, with what input, and what
 * to do; they never contain secrets (see `redact` in ./logger).
 */

/** Codes raised by core. Plugins declare their own codes in one place and pass them as strings. */
export const CoreErrorCodes = {
  CONFIG_READ: 'CONFIG_READ',
  CONFIG_PARSE: 'CONFIG_PARSE',
  CONFIG_INVALID: 'CONFIG_INVALID',
  CONFIG_WRITE: 'CONFIG_WRITE',
  CONFIG_BUSY: 'CONFIG_BUSY',
  STATE_DIR: 'STATE_DIR',
  STATE_PERMISSIONS: 'STATE_PERMISSIONS',
  STATE_CORRUPT: 'STATE_CORRUPT',
  PLUGIN_INVALID: 'PLUGIN_INVALID',
  PLUGIN_MISSING: 'PLUGIN_MISSING',
  PLUGIN_CONFLICT: 'PLUGIN_CONFLICT',
  START_FAILED: 'START_FAILED',
  STOP_FAILED: 'STOP_FAILED',
  NOT_STARTED: 'NOT_STARTED',
  NODE_UNKNOWN: 'NODE_UNKNOWN',
  NODE_DUPLICATE: 'NODE_DUPLICATE',
  REGION_UNKNOWN: 'REGION_UNKNOWN',
  PROBE_FAILED: 'PROBE_FAILED',
  GATEWAY_LISTEN: 'GATEWAY_LISTEN',
  ABORTED: 'ABORTED',
} as const;

export type CoreErrorCode = (typeof CoreErrorCodes)[keyof typeof CoreErrorCodes];

export interface HavenErrorOptions<C extends string = string> {
  code: C;
  /** `core`, or the plugin name such as `mediamtx`. */
  plugin?: string;
  cause?: unknown;
  /** Structured, secret-free context (file paths, key paths, addresses). */
  details?: Record<string, unknown>;
}

export class HavenError<C extends string = string> extends Error {
  readonly code: C;
  readonly plugin: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, options: HavenErrorOptions<C>) {
    const plugin = options.plugin ?? 'core';
    super(`[haven/${plugin}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HavenError';
    this.code = options.code;
    this.plugin = plugin;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, plugin: this.plugin, message: this.message, details: this.details };
  }
}

export function isHavenError(value: unknown, code?: string): value is HavenError {
  return value instanceof HavenError && (code === undefined || value.code === code);
}

/** Wrap anything thrown into a HavenError, keeping the original as `cause`. */
export function toHavenError(value: unknown, options: HavenErrorOptions & { message?: string }): HavenError {
  if (value instanceof HavenError) return value;
  const reason = value instanceof Error ? value.message : String(value);
  return new HavenError(options.message ? `${options.message}: ${reason}` : reason, { ...options, cause: value });
}
