// The third-party locator example, chosen by the app through haven.yaml alone.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/process.js';
import { repoRoot } from '../helpers/tools.js';

const CLI = path.join(repoRoot, 'examples/docker-app/dist/cli.js');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'haven-csv-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('custom locator through config', () => {
  it('routes with the CSV locator when haven.yaml names it', async () => {
    const init = await run(process.execPath, [CLI, '--dir', dir, 'init', '--region', 'us-east']);
    expect(init.code, init.stderr).toBe(0);
    await writeFile(path.join(dir, 'places.csv'), '203.0.113.0/24, 35.68:139.69, JP, Tokyo\n');
    const file = path.join(dir, 'haven.yaml');
    const text = (await readFile(file, 'utf8')).replace(/ {2}geo: \{\}\n/, `  csv-locator:\n    file: ${path.join(dir, 'places.csv')}\n`);
    await writeFile(file, `${text}\nnodes:\n  - name: tokyo\n    region: JP\n    rtsp: rtsp://192.0.2.10:8554\n`.replace('nodes: []\n', ''));
    const r = await run(process.execPath, [CLI, '--dir', dir, 'route', '203.0.113.7', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { viewer?: { country?: string; city?: string; source?: string }; candidates: Array<{ node: string; distanceKm?: number }> };
    expect(out.viewer).toMatchObject({ country: 'JP', city: 'Tokyo', source: 'csv' });
    const tokyo = out.candidates.find((c) => c.node === 'tokyo');
    expect(tokyo?.distanceKm).toBeLessThan(500);
  });

  it('reports a bad CSV with its line numbers', async () => {
    await writeFile(path.join(dir, 'places.csv'), 'not-a-cidr, JP\n');
    const r = await run(process.execPath, [CLI, '--dir', dir, 'route', '203.0.113.7']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/places\.csv:1: "not-a-cidr" is not a CIDR/);
  });
});
