import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import { z } from 'zod';
import { HavenError } from '../errors.js';
import type { HavenPlugin } from '../plugin.js';
import { havenConfigSchema, type HavenConfig } from './schema.js';

/** One problem in a config file. */
export interface ConfigProblem {
  /** Dotted key path, e.g. `nodes[1].region`. */
  path: string;
  message: string;
  line?: number;
  column?: number;
  /** The raw key path, for tools. */
  keys?: PropertyKey[];
}

export interface LoadedConfig {
  file: string;
  config: HavenConfig;
  /** Each plugin's parsed options, by plugin name. */
  pluginOptions: Record<string, unknown>;
  /** Absolute state directory (resolved against the config file's folder). */
  stateDir: string;
}

export function formatKeyPath(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of p) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(top level)';
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return `${typeof v} ${String(v)}`;
}

function valueAt(root: unknown, p: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = root;
  for (const seg of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg as string];
  }
  return cur;
}

/** Turn zod issues into problems that say where, what was expected and what was found. */
export function zodProblems(error: z.ZodError, input: unknown, prefix: PropertyKey[] = []): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const full = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: formatKeyPath([...full, key]), keys: [...full, key], message: `unknown key "${key}" (check the spelling; allowed keys are listed in the docs)` });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && 'discriminator' in issue) {
      out.push({ path: formatKeyPath(full.length ? full : ['role']), keys: full.length ? full : ['role'], message: `expected role: origin or node, found ${describeValue(valueAt(input, issue.path.length ? issue.path : ['role']))}` });
      continue;
    }
    const found = valueAt(input, issue.path);
    const msg = issue.message.replace(/^Invalid input: /, '');
    out.push({ path: formatKeyPath(full), keys: full, message: issue.code === 'custom' ? msg : `${msg}, found ${describeValue(found)}` });
  }
  return out;
}

function locate(doc: Document, lines: LineCounter, problem: ConfigProblem, fallback: PropertyKey[]): ConfigProblem {
  const rawPath = problem.keys ?? fallback;
  // Point at the key itself when it exists (unknown keys, bad values), not at its value.
  const parent = doc.getIn(rawPath.slice(0, -1) as unknown[], true);
  const last = rawPath[rawPath.length - 1];
  if (rawPath.length > 0 && isMap(parent)) {
    const pair = parent.items.find((it) => isScalar(it.key) && String(it.key.value) === String(last));
    if (pair && isNode(pair.key) && pair.key.range) {
      const pos = lines.linePos(pair.key.range[0]);
      return { ...problem, line: pos.line, column: pos.col };
    }
  }
  for (let n = rawPath.length; n >= 0; n--) {
    const node = doc.getIn(rawPath.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) {
      const pos = lines.linePos(node.range[0]);
      return { ...problem, line: pos.line, column: pos.col };
    }
  }
  return problem;
}

export function formatProblems(file: string, problems: ConfigProblem[]): string {
  const lines = problems.map((p) => `  - ${file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''} ${p.path}: ${p.message}`);
  return `${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`;
}

/**
 * Validate a config object (already parsed) against core's schema and each plugin's schema.
 * Collects every problem at once. `source` labels messages (a file name or `config`).
 */
export function validateConfig(
  input: unknown,
  plugins: ReadonlyArray<HavenPlugin> = [],
  source = 'config',
  locateProblem?: (p: ConfigProblem, rawPath: PropertyKey[]) => ConfigProblem,
): Omit<LoadedConfig, 'file' | 'stateDir'> {
  const at = locateProblem ?? ((p: ConfigProblem) => p);
  const problems: ConfigProblem[] = [];
  const core = havenConfigSchema.safeParse(input ?? {});
  if (!core.success) {
    for (const issue of core.error.issues) {
      for (const p of zodProblems(new z.ZodError([issue]), input)) problems.push(at(p, [...issue.path]));
    }
  }
  const sections = ((input as { plugins?: unknown } | null)?.plugins ?? {}) as Record<string, unknown>;
  const pluginOptions: Record<string, unknown> = {};
  const known = new Set(plugins.map((p) => p.name));
  if (sections && typeof sections === 'object' && !Array.isArray(sections)) {
    for (const key of Object.keys(sections)) {
      if (!known.has(key)) {
        problems.push(
          at(
            { path: `plugins.${key}`, message: `no plugin named "${key}" is loaded (loaded: ${[...known].join(', ') || 'none'})` },
            ['plugins', key],
          ),
        );
      }
    }
  }
  for (const plugin of plugins) {
    const section = (sections as Record<string, unknown>)[plugin.name];
    const merged = mergeOptions(section, plugin.options);
    const parsed = plugin.schema.safeParse(merged);
    if (parsed.success) pluginOptions[plugin.name] = parsed.data;
    else {
      for (const issue of parsed.error.issues) {
        const raw = ['plugins', plugin.name, ...issue.path];
        for (const p of zodProblems(new z.ZodError([issue]), merged, ['plugins', plugin.name])) problems.push(at(p, raw));
      }
    }
  }
  if (problems.length > 0) {
    throw new HavenError(formatProblems(source, problems), { code: 'CONFIG_INVALID', details: { file: source, problems } });
  }
  return { config: core.data as HavenConfig, pluginOptions };
}

function mergeOptions(section: unknown, code: unknown): unknown {
  if (code === undefined) return section ?? {};
  if (section === undefined || section === null) return code;
  if (typeof section === 'object' && !Array.isArray(section) && typeof code === 'object' && code !== null) {
    return { ...(section as object), ...(code as object) };
  }
  return section;
}

/** Parse YAML text; every syntax error is reported with its line. */
export function parseConfigText(text: string, file = 'haven.yaml', plugins: ReadonlyArray<HavenPlugin> = []): Omit<LoadedConfig, 'file' | 'stateDir'> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0]);
      return { path: '(yaml)', message: e.message.split('\n')[0] ?? e.code, line: pos.line, column: pos.col } as ConfigProblem;
    });
    throw new HavenError(`${formatProblems(file, problems)}\n  (not valid YAML: fix the syntax at the lines above)`, {
      code: 'CONFIG_PARSE',
      details: { file, problems },
    });
  }
  const input = doc.toJS({ maxAliasCount: 100 }) as unknown;
  return validateConfig(input, plugins, file, (p, raw) => locate(doc, lines, p, raw));
}

/** Read and validate `haven.yaml`. Throws a HavenError listing every problem. */
export async function loadConfig(file: string, plugins: ReadonlyArray<HavenPlugin> = []): Promise<LoadedConfig> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await fs.readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HavenError(
      code === 'ENOENT' ? `config file ${abs} does not exist: create one with \`haven init\`` : `cannot read config file ${abs} (${code ?? String(err)})`,
      { code: 'CONFIG_READ', cause: err, details: { file: abs } },
    );
  }
  const parsed = parseConfigText(text, abs, plugins);
  return { file: abs, ...parsed, stateDir: path.resolve(path.dirname(abs), parsed.config.stateDir) };
}
