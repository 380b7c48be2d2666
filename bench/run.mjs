#!/usr/bin/env node
// Runs every bench/*.bench.ts (or the ones named) one after another. `--smoke` runs each in a short
// mode (BENCH_SMOKE=1) so CI keeps them working; the full mode is for people measuring.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const only = args.filter((a) => !a.startsWith('--'));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  console.error('no benchmarks matched');
  process.exit(1);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Smoke runs that build a whole Haven in namespaces get longer (on a busy machine its set-up alone takes minutes). */
const SMOKE_TIMEOUT_MS = { 'crowd.bench.ts': 420_000 };
// Each benchmark runs with its own TMPDIR (the machine's stays in HAVEN_SHARED_TMPDIR for the locks that
// guard network namespaces), as each test file does (test/helpers/file-tmpdir.ts): a project temp folder
// (`haven-*`, `hv*`) still there when it ends fails it, and the folder goes either way.
const shared = process.env.HAVEN_SHARED_TMPDIR || tmpdir();
// A run killed half-way leaves its folder: the next run removes those whose runner is gone.
for (const name of readdirSync(shared)) {
  const pid = Number(/^haven-bench-run-(\d+)-/.exec(name)?.[1] ?? 0);
  if (pid > 0 && pid !== process.pid && !alive(pid)) rmSync(path.join(shared, name), { recursive: true, force: true, maxRetries: 2 });
}
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f}${smoke ? ' (smoke)' : ''} ===`);
  const temp = mkdtempSync(path.join(shared, `haven-bench-run-${process.pid}-`));
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, f)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_SMOKE: smoke ? '1' : '', TMPDIR: temp, HAVEN_SHARED_TMPDIR: shared },
    timeout: smoke ? (SMOKE_TIMEOUT_MS[f] ?? 180_000) : 1_800_000,
    // SIGTERM on timeout: a benchmark tears down what it started (namespaces, processes) before exiting.
    killSignal: 'SIGTERM',
  });
  const left = readdirSync(temp).filter((n) => /^(haven-|hv)/.test(n));
  rmSync(temp, { recursive: true, force: true, maxRetries: 2 });
  if (r.status !== 0) {
    failed++;
    console.error(`benchmark ${f} failed (exit ${r.status ?? r.signal})`);
  } else if (left.length) {
    failed++;
    console.error(`benchmark ${f} left temp folders behind: ${left.join(', ')}; remove each in its finally, also when it fails`);
  }
}
console.log(`\n${files.length - failed} benchmarks passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
