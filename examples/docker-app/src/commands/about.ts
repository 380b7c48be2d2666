import { spawnSync } from 'node:child_process';
import { resolveBinary } from '@haven/plugin-mediamtx';
import { HAVEN_VERSION } from '../version.js';

/** The MediaMTX this Haven runs (`$MEDIAMTX_BIN`, else `mediamtx` on PATH), as the binary itself says. */
export function mediamtxVersionLine(env: NodeJS.ProcessEnv = process.env): string {
  const bin = resolveBinary(undefined, env);
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000, env });
  if (r.error || r.status !== 0) {
    return `MediaMTX: ${bin} does not run (${r.error?.message ?? `exit ${r.status}`}); set MEDIAMTX_BIN or put mediamtx on PATH (scripts/setup.sh builds one)`;
  }
  const version = /v\d+\.\d+\.\d+\S*/.exec(`${r.stdout}${r.stderr}`)?.[0] ?? (r.stdout.trim() || 'unknown version');
  return `MediaMTX ${version} (${bin})`;
}

/** `haven --version`: the app's version, then the MediaMTX it runs. */
export function versionText(env: NodeJS.ProcessEnv = process.env): string {
  return `haven ${HAVEN_VERSION}\n${mediamtxVersionLine(env)}\n`;
}
