// Every non-destructive `haven …` line of the README runs as written after the start command: the
// `haven` command the set-up installs (scripts/install-haven.sh), on a Haven made by `haven init`
// (unedited) and running in its own network namespace, with HAVEN_DIR in a temp folder so the
// clone's own .haven is never touched.
import { existsSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsHarness } from '../helpers/netns.js';
import { run, waitFor, type Spawned } from '../helpers/process.js';
import { repoRoot } from '../helpers/tools.js';

const PREFIX = 'hrdme';

/** Commands that only read (or print help): run them all. */
const READ_ONLY = [/^haven --help$/, /^haven --version$/, /^haven help\b/, /^haven urls\b/, /^haven status\b/, /^haven doctor\b/, /^haven node list\b/, /^haven route \S+/];
/** Ones the README must hold at least, as the README's first screens promise them. */
const EXPECTED = ['haven --help', 'haven --version', 'haven urls', 'haven status', 'haven doctor', 'haven node list', 'haven route 127.0.0.1'];

/** `haven …` lines of the README: code-block lines and inline code spans, comments cut, placeholders left out. */
function readmeHavenLines(markdown: string): string[] {
  const out = new Set<string>();
  let fenced = false;
  for (const raw of markdown.split('\n')) {
    if (raw.startsWith('```')) {
      fenced = !fenced;
      continue;
    }
    if (fenced) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      if (line.startsWith('haven ')) out.add(line);
      continue;
    }
    for (const m of raw.matchAll(/`(haven [^`]+)`/g)) out.add(m[1]!.trim());
  }
  // Placeholders (`<ip>`, `[--json]`, `a|b`, `…`) are syntax, not lines to run.
  return [...out].filter((l) => !/[<>[\]|…{}]/.test(l));
}

let h: NetnsHarness;
let ns: string;
let tmp: string;
let env: NodeJS.ProcessEnv;
const repoHaven = path.join(repoRoot, '.haven');
const repoHavenBefore = existsSync(repoHaven) ? statSync(repoHaven).mtimeMs : undefined;

beforeAll(async () => {
  h = await NetnsHarness.create(PREFIX);
  ns = await h.namespace('origin');
  tmp = await mkdtemp(path.join(tmpdir(), 'haven-readme-'));
  const bin = path.join(tmp, 'bin');
  const install = await run('bash', [path.join(repoRoot, 'scripts/install-haven.sh')], { env: { ...process.env, HAVEN_BIN_DIR: bin } });
  expect(install.code, install.stderr).toBe(0);
  expect(install.stdout.trim()).toBe(path.join(bin, 'haven'));
  env = { ...process.env, HAVEN_DIR: path.join(tmp, '.haven'), PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
});

afterAll(async () => {
  await h?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("the README's haven lines", () => {
  const lines = readmeHavenLines(readFileSync(path.join(repoRoot, 'README.md'), 'utf8'));
  const toRun = lines.filter((l) => READ_ONLY.some((r) => r.test(l)));

  it('the README holds the read-only lines a streamer needs first', () => {
    expect(toRun).toEqual(expect.arrayContaining(EXPECTED));
  });

  it('run as written against a running origin made by `haven init`, through the installed haven command', async () => {
    const init = await run('haven', ['init'], { env });
    expect(init.code, init.stderr).toBe(0);
    expect(existsSync(path.join(tmp, '.haven', 'haven.yaml'))).toBe(true);

    const origin: Spawned = h.spawn(ns, 'haven', ['start'], { env });
    await waitFor('the origin to be ready', () => origin.output().includes('› ready.') || origin.child.exitCode !== null, 90_000);
    expect(origin.output()).toContain('› ready.');

    const failed: string[] = [];
    for (const line of toRun) {
      const r = await h.exec(ns, 'sh', ['-c', line], { env, timeoutMs: 60_000 });
      // `haven doctor` exits 1 on a problem of this machine (it says which); it must still run.
      const ran = r.code === 0 || (/^haven doctor\b/.test(line) && r.code === 1 && /\n?(ok|warn|fail)\b/m.test(r.stdout));
      if (!ran || /^error:/m.test(r.stderr)) failed.push(`${line} → exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
    }
    console.log(`README: ran ${toRun.length} haven lines: ${toRun.join('; ')}`);
    expect(failed).toEqual([]);

    // What they print comes from the Haven in HAVEN_DIR, and --version names the MediaMTX.
    const version = await h.exec(ns, 'haven', ['--version'], { env });
    expect(version.stdout).toMatch(/^haven \d+\.\d+\.\d+.*\nMediaMTX v\d+\.\d+\.\d+ \(/);
    const help = await h.exec(ns, 'haven', ['--help'], { env });
    for (const cmd of ['init', 'start', 'urls', 'status', 'node keygen', 'node add', 'node bundle', 'node list', 'node join', 'node remove', 'route', 'doctor', 'secrets rotate']) {
      expect(help.stdout, cmd).toMatch(new RegExp(`^  ${cmd}\\b.*\\S\\s{2,}\\S`, 'm'));
    }
  });

  it('a haven command whose clone is gone says so and what to run, instead of a stack trace', async () => {
    const shim = readFileSync(path.join(tmp, 'bin', 'haven'), 'utf8');
    const gone = path.join(tmp, 'gone-clone');
    const moved = path.join(tmp, 'moved-haven');
    writeFileSync(moved, shim.split(realpathSync(repoRoot)).join(gone), { mode: 0o755 });
    const r = await run(moved, ['--version'], { env });
    expect(r.code).toBe(127);
    expect(r.stderr).toContain(`runs the Stream Haven clone in ${gone}`);
    expect(r.stderr).toContain('run scripts/setup.sh');
    expect(r.stderr).not.toMatch(/MODULE_NOT_FOUND|at Module/);
  });

  it('an explicit --dir wins over HAVEN_DIR, and the clone\'s own .haven was never touched', async () => {
    const other = path.join(tmp, 'elsewhere');
    const r = await run('haven', ['--dir', other, 'urls'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no haven.yaml in ${other}`);
    expect(existsSync(repoHaven) ? statSync(repoHaven).mtimeMs : undefined).toBe(repoHavenBefore);
  });
});
