import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, parseDocument, YAMLSeq, type Document } from 'yaml';
import { HavenError } from '../errors.js';
import type { HavenPlugin } from '../plugin.js';
import { writeFileAtomic } from '../state.js';
import { parseConfigText, type LoadedConfig } from './load.js';
import { withFileLock } from './lock.js';
import type { NodeEntry } from './schema.js';

/**
 * Change haven.yaml in place, keeping its comments and layout. The new text is validated as a whole
 * before it is written (atomically); an invalid result throws and leaves the file as it was. Holds the
 * file's lock from read to write, so concurrent changes (other processes too) never lose each other.
 */
export async function updateConfigFile(
  file: string,
  mutate: (doc: Document) => void,
  plugins: ReadonlyArray<HavenPlugin> = [],
): Promise<LoadedConfig> {
  const abs = path.resolve(file);
  return withFileLock(abs, () => updateLocked(abs, mutate, plugins));
}

/** Write `text` back as the file's content (undoing an edit whose apply failed), under the lock. */
export async function restoreConfigFile(file: string, text: string): Promise<void> {
  const abs = path.resolve(file);
  await withFileLock(abs, async () => {
    const st = await fs.stat(abs);
    await writeFileAtomic(abs, text, st.mode & 0o777);
  });
}

async function updateLocked(abs: string, mutate: (doc: Document) => void, plugins: ReadonlyArray<HavenPlugin>): Promise<LoadedConfig> {
  const before = await fs.readFile(abs, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new HavenError(`cannot read config file ${abs} (${err.code ?? String(err)})`, { code: 'CONFIG_READ', cause: err });
  });
  const doc = parseDocument(before, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    // Let the parser name the lines.
    parseConfigText(before, abs, plugins);
  }
  mutate(doc);
  const text = doc.toString({ lineWidth: 0 });
  const parsed = parseConfigText(text, abs, plugins);
  const st = await fs.stat(abs);
  await writeFileAtomic(abs, text, st.mode & 0o777);
  return { file: abs, ...parsed, stateDir: path.resolve(path.dirname(abs), parsed.config.stateDir) };
}

function nodesSeq(doc: Document): YAMLSeq {
  const existing = doc.get('nodes', true);
  if (isSeq(existing)) {
    // `nodes: []` from the template is a flow list: entries added to it go one per block, readable.
    existing.flow = false;
    return existing;
  }
  if (existing !== undefined && existing !== null && !(isMap(existing) && existing.items.length === 0)) {
    throw new HavenError('`nodes` in the config file is not a list', { code: 'CONFIG_INVALID' });
  }
  const seq = new YAMLSeq();
  doc.set('nodes', seq);
  return seq;
}

/** Append a node entry (validated with the rest of the file). */
export function addNodeEntry(entry: Partial<NodeEntry> & { name: string }): (doc: Document) => void {
  return (doc) => {
    if (doc.contents && !isMap(doc.contents)) throw new HavenError('the config file is not a map of keys', { code: 'CONFIG_INVALID' });
    const clean = Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined));
    nodesSeq(doc).add(doc.createNode(clean));
  };
}

/** Remove a node entry by name; throws NODE_UNKNOWN when there is none. */
export function removeNodeEntry(name: string): (doc: Document) => void {
  return (doc) => {
    const seq = doc.get('nodes', true);
    const index = isSeq(seq) ? seq.items.findIndex((it) => isMap(it) && it.get('name') === name) : -1;
    if (!isSeq(seq) || index < 0) {
      throw new HavenError(`no node named "${name}" in the config file`, { code: 'NODE_UNKNOWN', details: { name } });
    }
    seq.items.splice(index, 1);
  };
}
