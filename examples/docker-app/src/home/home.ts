import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { HavenError } from '@haven/core';
import { crossPluginSettings, type CrossPluginSettings } from './derived.js';

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

export interface ConfigPeek {
  role?: string;
  plugins: string[];
  hasNodes: boolean;
  /** The settings other plugins derive from this config's sections (ports, VPN subnet). */
  settings: CrossPluginSettings;
}

/** A light look at the raw file (role and plugin sections) to pick plugins before validation. */
export function peekConfig(home: Home): ConfigPeek {
  try {
    const doc = parseDocument(readFileSync(home.configFile, 'utf8'));
    const js = (doc.toJS() ?? {}) as { role?: unknown; plugins?: unknown; nodes?: unknown; public?: { host?: unknown } };
    const sections = (js.plugins && typeof js.plugins === 'object' ? js.plugins : {}) as Record<string, unknown>;
    const publicHost = typeof js.public?.host === 'string' ? js.public.host : '127.0.0.1';
    return {
      ...(typeof js.role === 'string' ? { role: js.role } : {}),
      plugins: Object.keys(sections),
      hasNodes: Array.isArray(js.nodes) && js.nodes.length > 0,
      settings: crossPluginSettings({ publicHost, wireguard: sections.wireguard, mediamtx: sections.mediamtx }),
    };
  } catch {
    return { plugins: [], hasNodes: false, settings: crossPluginSettings({ publicHost: '127.0.0.1' }) };
  }
}
