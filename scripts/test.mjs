#!/usr/bin/env node
// The project's test command: the typecheck of every workspace package (the packages with their unit
// tests, test/ and bench/; vitest strips types without checking them), every vitest project (unit,
// integration, dist), then every benchmark in smoke mode. Prints one closing line `N passed, N failed`
// for the whole run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'test-artifacts');
mkdirSync(outDir, { recursive: true });
const report = path.join(outDir, 'vitest.json');
const extra = process.argv.slice(2);

// A partial run (arguments for vitest) skips the typecheck, as it skips the benchmarks.
let typecheckFailed = 0;
let typecheckPassed = 0;
if (!extra.length) {
  const started = Date.now();
  const tc = spawnSync('pnpm', ['-r', 'typecheck'], { cwd: root, stdio: 'inherit' });
  console.log(`typecheck: ${tc.status === 0 ? 'clean' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (tc.status === 0) typecheckPassed = 1;
  else typecheckFailed = 1;
}

const vitest = spawnSync('pnpm', ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra], {
  cwd: root,
  stdio: 'inherit',
});

let passed = 0;
let failed = 0;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests + (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if (r.numPendingTests) console.error(`${r.numPendingTests} test(s) were skipped: skipped tests count as failures here`);
  // A project that silently found no file (a mistyped glob, an ignored folder) is a failure too.
  if (!extra.length) {
    const files = r.testResults.map((t) => path.relative(root, t.name));
    const projects = { unit: (f) => /^(packages|examples)\//.test(f), integration: (f) => f.startsWith('test/') && !f.startsWith('test/built/'), dist: (f) => f.startsWith('test/built/') };
    for (const [name, match] of Object.entries(projects)) {
      if (!files.some(match)) {
        console.error(`the ${name} project ran no test file`);
        failed += 1;
      }
    }
  }
} catch {
  failed += 1;
}
if (vitest.status !== 0 && failed === 0) failed = 1;

let benchFailed = 0;
if (!extra.length && !process.env.HAVEN_SKIP_BENCH) {
  const bench = spawnSync(process.execPath, [path.join(root, 'bench', 'run.mjs'), '--smoke'], { cwd: root, stdio: 'inherit' });
  if (bench.status !== 0) benchFailed = 1;
  else passed += 1;
}
passed += typecheckPassed;
failed += typecheckFailed;
console.log(`\n${passed} passed, ${failed + benchFailed} failed`);
process.exit(failed + benchFailed > 0 ? 1 : 0);
