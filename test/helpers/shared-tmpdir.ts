import { tmpdir } from 'node:os';

/**
 * Under vitest every test file gets its own TMPDIR (test/helpers/file-tmpdir.ts); this variable keeps
 * the machine's temp folder for what must be shared between runs.
 */
export const SHARED_TMPDIR_ENV = 'HAVEN_SHARED_TMPDIR';

/**
 * The machine's temp folder, the same for every run and every test file: the place for locks that
 * guard machine-wide things (network namespaces of a prefix) against another run.
 */
export function sharedTmpdir(): string {
  return process.env[SHARED_TMPDIR_ENV] || tmpdir();
}
