#!/usr/bin/env node
// Runs every bench/*.bench.ts (or the ones named) one after another. `--smoke` runs each in a short
// mode (BENCH_SMOKE=1) so CI keeps them working; the full mode is for people measuring.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
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
/** Smoke runs that build a whole Haven in namespaces get longer (on a busy machine its set-up alone takes minutes). */
const SMOKE_TIMEOUT_MS = { 'crowd.bench.ts': 420_000 };
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f}${smoke ? ' (smoke)' : ''} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, f)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_SMOKE: smoke ? '1' : '' },
    timeout: smoke ? (SMOKE_TIMEOUT_MS[f] ?? 180_000) : 1_800_000,
    // SIGTERM on timeout: a benchmark tears down what it started (namespaces, processes) before exiting.
    killSignal: 'SIGTERM',
  });
  if (r.status !== 0) {
    failed++;
    console.error(`benchmark ${f} failed (exit ${r.status ?? r.signal})`);
  }
}
console.log(`\n${files.length - failed} benchmarks passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
