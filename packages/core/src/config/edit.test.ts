import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HavenError } from '../errors.js';
import { addNodeEntry, removeNodeEntry, updateConfigFile } from './edit.js';
import type { LoadedConfig } from './load.js';
import { watchConfig } from './watch.js';

const BASE = `# my haven
role: origin   # the streamer's machine
nodes:
  # friends
  - name: alice
    region: eu-central
    rtsp: rtsp://198.51.100.7:8554
`;

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'haven-edit-'));
  file = path.join(dir, 'haven.yaml');
  await writeFile(file, BASE);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('updateConfigFile', () => {
  it('adds and removes nodes keeping comments', async () => {
    const loaded = await updateConfigFile(file, addNodeEntry({ name: 'bob', region: 'us-east', rtsp: 'rtsp://198.51.100.8:8554', capacity: 10 }));
    expect(loaded.config.role === 'origin' && loaded.config.nodes.map((n) => n.name)).toEqual(['alice', 'bob']);
    let text = await readFile(file, 'utf8');
    expect(text).toContain('# my haven');
    expect(text).toContain('# the streamer');
    expect(text).toContain('name: bob');
    await updateConfigFile(file, removeNodeEntry('alice'));
    text = await readFile(file, 'utf8');
    expect(text).not.toContain('alice');
    expect(text).toContain('# my haven');
  });

  it('refuses an edit that would make the file invalid and leaves it untouched', async () => {
    await expect(updateConfigFile(file, addNodeEntry({ name: 'alice', region: 'eu-central', rtsp: 'rtsp://x:1' }))).rejects.toThrow(/duplicate node name "alice"/);
    await expect(updateConfigFile(file, removeNodeEntry('zed'))).rejects.toThrow(/no node named "zed"/);
    expect(await readFile(file, 'utf8')).toBe(BASE);
  });

  it('creates the nodes list when the file has none', async () => {
    await writeFile(file, 'role: origin\n');
    const loaded = await updateConfigFile(file, addNodeEntry({ name: 'carol', lat: 1, lon: 2, rtsp: 'rtsp://192.0.2.1:8554' }));
    expect(loaded.config.role === 'origin' && loaded.config.nodes).toHaveLength(1);
  });
});

describe('watchConfig', () => {
  it('hands valid edits over and reports invalid ones without applying them', async () => {
    const changes: LoadedConfig[] = [];
    const invalid: HavenError[] = [];
    const w = await watchConfig(file, { debounceMs: 50, onChange: (l) => void changes.push(l), onInvalid: (e) => void invalid.push(e) });
    try {
      await writeFile(file, `${BASE}  - name: bob\n    region: us-east\n    rtsp: rtsp://198.51.100.8:8554\n`);
      await waitUntil(() => changes.length === 1);
      expect(changes[0]!.config.role === 'origin' && changes[0]!.config.nodes.map((n) => n.name)).toEqual(['alice', 'bob']);
      await writeFile(file, `${BASE}  - name: Bad Name\n`);
      await waitUntil(() => invalid.length === 1);
      expect(invalid[0]!.message).toMatch(/nodes\[1\]\.name/);
      expect(changes).toHaveLength(1);
    } finally {
      w.close();
    }
  });
});

async function waitUntil(fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
