import { createHash } from 'node:crypto';
import { watch, promises as fs, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { toHavenError, type HavenError } from '../errors.js';
import type { HavenPlugin } from '../plugin.js';
import { loadConfig, type LoadedConfig } from './load.js';

export interface ConfigWatcher {
  close(): void;
}

export interface WatchConfigOptions {
  plugins?: ReadonlyArray<HavenPlugin>;
  /** Wait this long after the last change before reading, ms. Default 150. */
  debounceMs?: number;
  onChange(loaded: LoadedConfig): void | Promise<void>;
  /** An edit that does not validate: the running config stays as it was. */
  onInvalid(error: HavenError): void;
}

/**
 * Watch haven.yaml for edits (including editors that replace the file by rename). Each distinct
 * content is validated once; valid ones are handed to `onChange`, invalid ones to `onInvalid`.
 */
export async function watchConfig(file: string, options: WatchConfigOptions): Promise<ConfigWatcher> {
  const abs = path.resolve(file);
  const base = path.basename(abs);
  const hash = (t: string) => createHash('sha256').update(t).digest('hex');
  let last = hash(await fs.readFile(abs, 'utf8'));
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  let closed = false;

  const check = () => {
    running = running.then(async () => {
      if (closed) return;
      let text: string;
      try {
        text = await fs.readFile(abs, 'utf8');
      } catch {
        return; // Mid-rename; the next event reads it.
      }
      const h = hash(text);
      if (h === last) return;
      last = h;
      try {
        const loaded = await loadConfig(abs, options.plugins ?? []);
        await options.onChange(loaded);
      } catch (err) {
        options.onInvalid(toHavenError(err, { code: 'CONFIG_INVALID' }));
      }
    });
  };

  const watcher: FSWatcher = watch(path.dirname(abs), { persistent: false }, (_event, name) => {
    if (name !== null && name !== base) return;
    clearTimeout(timer);
    timer = setTimeout(check, options.debounceMs ?? 150);
  });
  watcher.on('error', (err) => options.onInvalid(toHavenError(err, { code: 'CONFIG_READ', message: `watching ${abs} failed` })));
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}
