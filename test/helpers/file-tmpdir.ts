/**
 * A vitest setup file (every project): each test file runs with its own TMPDIR, and fails when it
 * leaves one of the project's temp folders there (`haven-*`, `hv*`). Files run in parallel in separate
 * workers, each with its own folder, so one file never sees another's folders, nor another run's.
 * Whatever is left (also other tools' files: tsx's cache, Chromium's singleton folders) goes with the
 * folder once the file ends; a run killed before that leaves its folder, removed by the next run once
 * its worker's pid is dead.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { alive } from './process.js';
import { SHARED_TMPDIR_ENV, sharedTmpdir } from './shared-tmpdir.js';

/** Names the project's tests and helpers give their temp folders. */
const PROJECT_TEMP = /^(haven-|hv)/;
const FOLDER = /^haven-test-(\d+)-/;

process.env[SHARED_TMPDIR_ENV] ??= tmpdir();
const shared = sharedTmpdir();
for (const name of readdirSync(shared)) {
  const pid = Number(FOLDER.exec(name)?.[1] ?? 0);
  if (pid <= 0 || pid === process.pid || alive(pid)) continue;
  try {
    rmSync(path.join(shared, name), { recursive: true, force: true, maxRetries: 2 });
  } catch {
    // Another worker removing the same folder at the same moment; a stale folder is no reason to fail this file.
  }
}
const dir = mkdtempSync(path.join(shared, `haven-test-${process.pid}-`));
process.env.TMPDIR = dir;

// Registered before the file's own hooks, so (vitest runs afterAll hooks in reverse) it runs after them.
afterAll(() => {
  const left = readdirSync(dir).filter((n) => PROJECT_TEMP.test(n));
  rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  process.env.TMPDIR = shared;
  if (left.length) {
    throw new Error(`this test file left temp folders behind: ${left.join(', ')}; remove each in an afterAll/afterEach (or the helper's stop), also when a test fails`);
  }
});
