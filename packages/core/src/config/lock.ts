import { promises as fs } from 'node:fs';
import { HavenError } from '../errors.js';

export interface FileLockOptions {
  /** Give up after this long, ms. Default 10000. */
  waitMs?: number;
  /** A lock older than this is left over from a crashed process and is taken over, ms. Default 30000. */
  staleMs?: number;
}

/**
 * Run `fn` holding `<file>.lock` (created exclusively), so two processes (`haven node add` twice, the
 * CLI and the running origin) never read-modify-write the same file at once. Waits for a holder; a
 * clear error when it cannot get the lock in time.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const lock = `${file}.lock`;
  const until = Date.now() + (options.waitMs ?? 10_000);
  const staleMs = options.staleMs ?? 30_000;
  for (;;) {
    try {
      const h = await fs.open(lock, 'wx', 0o600);
      await h.writeFile(`${process.pid}\n`);
      await h.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new HavenError(`cannot create the lock ${lock} (${(err as NodeJS.ErrnoException).code ?? String(err)}): check that its folder is writable`, { code: 'CONFIG_WRITE', cause: err });
      }
      const st = await fs.stat(lock).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > staleMs) {
        await fs.rm(lock, { force: true });
        continue;
      }
      if (Date.now() > until) {
        throw new HavenError(`${file} is being changed by another haven command (lock ${lock}); try again in a moment, or remove the lock if no haven command is running`, {
          code: 'CONFIG_BUSY',
        });
      }
      await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { force: true });
  }
}
