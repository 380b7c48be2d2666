import { HavenError, type HavenErrorOptions } from '@haven/core';

export const PLUGIN_NAME = 'mediamtx';

/** Every error code this plugin raises (as `HavenError.code`, with `plugin: 'mediamtx'`). */
export const MediamtxErrorCodes = {
  /** An option given in code or in haven.yaml is invalid. */
  OPTIONS_INVALID: 'OPTIONS_INVALID',
  /** The MediaMTX binary was not found or could not be executed. */
  BINARY_MISSING: 'BINARY_MISSING',
  /** MediaMTX exited while starting (bad config, port in use...). */
  START_FAILED: 'START_FAILED',
  /** MediaMTX did not answer on its Control API in time. */
  START_TIMEOUT: 'START_TIMEOUT',
  /** The Control API answered with an error status, or could not be reached. */
  API_ERROR: 'API_ERROR',
  /** The Control API answered with a body that does not match the documented shape. */
  API_RESPONSE_INVALID: 'API_RESPONSE_INVALID',
  /** The rendered MediaMTX config could not be written. */
  CONFIG_WRITE: 'CONFIG_WRITE',
  /** The auth hook could not listen on loopback. */
  HOOK_LISTEN: 'HOOK_LISTEN',
  /** Node role without `originRelay`. */
  ORIGIN_RELAY_MISSING: 'ORIGIN_RELAY_MISSING',
  /** A stream name MediaMTX would not accept as a path name. */
  STREAM_INVALID: 'STREAM_INVALID',
  /** An operation that needs a running MediaMTX was called before start() or after stop(). */
  NOT_RUNNING: 'NOT_RUNNING',
} as const;

export type MediamtxErrorCode = (typeof MediamtxErrorCodes)[keyof typeof MediamtxErrorCodes];

/** A HavenError tagged with this plugin. */
export function mtxError(
  code: MediamtxErrorCode,
  message: string,
  options: Omit<HavenErrorOptions<MediamtxErrorCode>, 'code' | 'plugin'> = {},
): HavenError<MediamtxErrorCode> {
  return new HavenError(message, { ...options, code, plugin: PLUGIN_NAME });
}
