// The set-up's two layers, read from its plan (`scripts/setup.sh --plan [--lab]`, which installs
// nothing): the start command installs what running needs and none of the test lab.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/process.js';
import { repoRoot } from '../helpers/tools.js';

/** What the test lab alone needs: never part of running a Haven. */
const LAB_ONLY = [
  'chromium',
  'libnss3-tools',
  'podman',
  'runc',
  'podman-compose',
  'debootstrap',
  'haproxy',
  'tcpdump',
  'nftables',
  'python3-gi',
  'gir1.2-gst-rtsp-server-1.0',
  'gstreamer1.0-tools',
  'gstreamer1.0-plugins-base',
  'gstreamer1.0-plugins-good',
  'gstreamer1.0-plugins-ugly',
  'bsdutils',
  'pebble',
];

interface Step {
  layer: string;
  kind: string;
  name: string;
  why: string;
}

let binDir: string;

async function plan(...args: string[]): Promise<Step[]> {
  const r = await run('bash', [path.join(repoRoot, 'scripts/setup.sh'), '--plan', ...args], { env: { ...process.env, HAVEN_BIN_DIR: binDir } });
  expect(r.code, r.stderr).toBe(0);
  const steps: Step[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(run|lab) (\w+) (\S+): (.+) \((installed|missing)\)$|^(run|lab) (\w+) (\S+): (.+)$/.exec(line);
    expect(m, `plan line "${line}"`).not.toBeNull();
    steps.push({ layer: m![1] ?? m![6]!, kind: m![2] ?? m![7]!, name: m![3] ?? m![8]!, why: m![4] ?? m![9]! });
  }
  return steps;
}

beforeAll(async () => {
  binDir = await mkdtemp(path.join(tmpdir(), 'haven-plan-bin-'));
});

afterAll(async () => {
  await rm(binDir, { recursive: true, force: true });
});

describe('the set-up plan', () => {
  it('the run layer (start command) holds what running needs and none of the test lab', async () => {
    const steps = await plan();
    expect(steps.every((s) => s.layer === 'run')).toBe(true);
    const names = steps.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['nodejs', 'ffmpeg', 'wireguard-tools', 'iproute2', 'node_modules', 'packages', 'mediamtx', 'haven']));
    for (const lab of LAB_ONLY) expect(names, `${lab} in the run layer`).not.toContain(lab);
    // wireguard-go only where the kernel has no WireGuard.
    const modules = `/lib/modules/${release()}`;
    const kernel = existsSync('/sys/module/wireguard') || (await run('grep', ['-qs', '/wireguard.ko', `${modules}/modules.builtin`, `${modules}/modules.dep`])).code === 0;
    expect(names.includes('wireguard-go')).toBe(!kernel);
    // Each step says why.
    for (const s of steps) expect(s.why.length, s.name).toBeGreaterThan(10);
  });

  it('the test lab (test command, CI) adds the lab on top of the same run layer', async () => {
    const run_ = await plan();
    const all = await plan('--lab');
    expect(all.filter((s) => s.layer === 'run')).toEqual(run_);
    const lab = all.filter((s) => s.layer === 'lab').map((s) => s.name);
    expect(lab).toEqual(expect.arrayContaining(LAB_ONLY));
    // Nothing of the lab slipped into the run layer under another list.
    const runNames = new Set(run_.map((s) => s.name));
    for (const name of lab.filter((n) => n !== 'wireguard-go')) expect(runNames.has(name), name).toBe(false);
  });

  it('the plan installs nothing: no haven command was written', async () => {
    await plan('--lab');
    expect(existsSync(path.join(binDir, 'haven'))).toBe(false);
  });

  it('the start command runs the run layer only, the test command and CI the lab', async () => {
    const start = await run('grep', ['-c', '^bash scripts/setup.sh$', path.join(repoRoot, 'scripts/start.sh')]);
    expect(start.stdout.trim()).toBe('1');
    for (const f of ['scripts/test.sh', '.ci/run']) {
      const lab = await run('grep', ['-c', '^bash scripts/setup.sh --lab$', path.join(repoRoot, f)]);
      expect(lab.stdout.trim(), f).toBe('1');
    }
  });
});
