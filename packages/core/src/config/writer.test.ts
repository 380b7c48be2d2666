import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addNodeEntry, updateConfigFile } from './edit.js';
import type { LoadedConfig } from './load.js';
import { ConfigWriter } from './writer.js';

let dir: string;
let file: string;
const TEXT = `# my origin\nrole: origin\nname: origin\nregion: us-east\nnodes: []\n`;
const node = (i: number) => ({ name: `n${i}`, region: 'eu-central', rtsp: `rtsp://198.51.100.${i}:8554` });

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'haven-writer-'));
  file = path.join(dir, 'haven.yaml');
  await writeFile(file, TEXT);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const names = (l: LoadedConfig) => (l.config.role === 'origin' ? l.config.nodes.map((n) => n.name) : []);

describe('ConfigWriter', () => {
  it('runs concurrent edits one at a time: every one lands, in order, comments kept', async () => {
    const applied: string[][] = [];
    const w = new ConfigWriter({ file, apply: async (l) => void applied.push(names(l)) });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => w.update(addNodeEntry(node(i + 1)))));
    expect(names(results.at(-1)!)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8']);
    expect(applied.map((a) => a.length)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await readFile(file, 'utf8')).toMatch(/^# my origin/);
  });

  it('concurrent edits from outside the writer (another process) are not lost either: the file lock', async () => {
    await Promise.all(Array.from({ length: 6 }, (_, i) => updateConfigFile(file, addNodeEntry(node(i + 1)))));
    const text = await readFile(file, 'utf8');
    for (let i = 1; i <= 6; i++) expect(text).toContain(`name: n${i}`);
  });

  it('an invalid edit never reaches apply and leaves the file as it was; a failed apply puts the file back', async () => {
    let calls = 0;
    let fail = false;
    const w = new ConfigWriter({
      file,
      apply: async () => {
        calls++;
        if (fail) throw new Error('the VPN said no');
      },
    });
    await expect(w.update(addNodeEntry({ ...node(1), endpoint: 'not an endpoint' }))).rejects.toThrow(/endpoint/);
    expect(calls).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(TEXT);
    fail = true;
    await expect(w.update(addNodeEntry(node(2)))).rejects.toThrow(/the VPN said no/);
    expect(await readFile(file, 'utf8')).toBe(TEXT);
    fail = false;
    expect(names(await w.update(addNodeEntry(node(3))))).toEqual(['n3']);
  });

  it('reload() reads the file inside the queue, after the edits queued before it', async () => {
    const applied: string[][] = [];
    const w = new ConfigWriter({ file, apply: async (l) => void applied.push(names(l)) });
    const a = w.update(addNodeEntry(node(1)));
    const r = w.reload();
    await Promise.all([a, r]);
    expect(applied).toEqual([['n1'], ['n1']]);
  });
});
