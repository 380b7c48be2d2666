import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { HavenError } from '@haven/core';

export const CONFIG_FILE = 'haven.yaml';

/** Where a Haven lives: a folder with haven.yaml (and, by default, its `state/`). */
export interface Home {
  dir: string;
  configFile: string;
}

/** `--dir`, else `$HAVEN_DIR`, else the current folder. */
export function resolveHome(dir?: string): Home {
  const base = path.resolve(dir ?? process.env.HAVEN_DIR ?? '.');
  return { dir: base, configFile: path.join(base, CONFIG_FILE) };
}

export function requireConfig(home: Home): void {
  if (!existsSync(home.configFile)) {
    throw new HavenError(`no ${CONFIG_FILE} in ${home.dir}: run \`haven init\` there first (or pass --dir)`, { code: 'CONFIG_READ' });
  }
}

/** A light look at the raw file (role and plugin sections) to pick plugins before validation. */
export function peekConfig(home: Home): { role?: string; plugins: string[]; hasNodes: boolean } {
  try {
    const doc = parseDocument(readFileSync(home.configFile, 'utf8'));
    const js = (doc.toJS() ?? {}) as { role?: unknown; plugins?: unknown; nodes?: unknown };
    const plugins = js.plugins && typeof js.plugins === 'object' ? Object.keys(js.plugins) : [];
    return {
      ...(typeof js.role === 'string' ? { role: js.role } : {}),
      plugins,
      hasNodes: Array.isArray(js.nodes) && js.nodes.length > 0,
    };
  } catch {
    return { plugins: [], hasNodes: false };
  }
}
