import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable } from '@haven/core';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const sharedDir = path.resolve(repoRoot, '..', 'shared');

/**
 * A required tool. Missing tools fail loudly with what to install; tests never skip silently.
 */
export function requireTool(name: string, install: string): string {
  const p = findExecutable(name) ?? (existsSync(`/usr/sbin/${name}`) ? `/usr/sbin/${name}` : undefined);
  if (!p) throw new Error(`${name} is not installed: ${install} (bash .ci/run installs it)`);
  return p;
}

/** The MediaMTX binary: MEDIAMTX_BIN, the project cache built by scripts/get-mediamtx.sh, or PATH. */
export function mediamtxBin(): string {
  const env = process.env.MEDIAMTX_BIN;
  if (env && existsSync(env)) return env;
  const cached = path.join(process.env.HAVEN_CACHE_DIR ?? path.join(repoRoot, '.cache'), 'mediamtx', 'current');
  if (existsSync(cached)) return realpathSync(cached);
  const p = findExecutable('mediamtx');
  if (p) return p;
  throw new Error('MediaMTX is missing: run `bash scripts/get-mediamtx.sh` (builds it from its Go module) or set MEDIAMTX_BIN');
}

export const isRoot = (): boolean => process.getuid?.() === 0;
