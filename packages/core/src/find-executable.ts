import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * The first executable file named `name` in the directories of `PATH` (of `env`), or `undefined`.
 * Empty entries are skipped: they would mean the working directory, which a program found by name
 * must not come from.
 */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}
