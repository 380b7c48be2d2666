import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Document } from 'yaml';
import { HavenError, toHavenError } from '../errors.js';
import type { HavenPlugin } from '../plugin.js';
import { restoreConfigFile, updateConfigFile } from './edit.js';
import { loadConfig, type LoadedConfig } from './load.js';

export interface ConfigWriterOptions {
  file: string;
  plugins?: ReadonlyArray<HavenPlugin>;
  /** Make the running Haven match a config (e.g. `haven.applyConfig`); throws when it cannot, having changed nothing. */
  apply(next: LoadedConfig): Promise<unknown>;
}

/**
 * The one way a running Haven's config changes: edits from the API and the CLI (`update`) and the
 * file watcher (`reload`) all go through one queue, one at a time, in order. An edit is validated as a
 * whole before anything is touched; when applying it fails the file is put back as it was, so the
 * file and the running config never disagree.
 */
export class ConfigWriter {
  readonly file: string;
  readonly #o: ConfigWriterOptions;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ConfigWriterOptions) {
    this.file = path.resolve(options.file);
    this.#o = options;
  }

  /** Run `fn` after every change queued before it, and before any queued after it. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Edit the file (validated whole, written atomically under its lock), then apply it; undone on failure. */
  update(mutate: (doc: Document) => void): Promise<LoadedConfig> {
    return this.run(() => this.#update(mutate));
  }

  /**
   * Like `update`, with a preparation step that runs in the queue first (e.g. allocating the new node's
   * VPN address, so two additions never get the same one).
   */
  updateWith(prepare: () => Promise<(doc: Document) => void>): Promise<LoadedConfig> {
    return this.run(async () => this.#update(await prepare()));
  }

  async #update(mutate: (doc: Document) => void): Promise<LoadedConfig> {
    const before = await fs.readFile(this.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new HavenError(`cannot read config file ${this.file} (${err.code ?? String(err)})`, { code: 'CONFIG_READ', cause: err });
    });
    const next = await updateConfigFile(this.file, mutate, this.#o.plugins ?? []);
    try {
      await this.#o.apply(next);
    } catch (err) {
      await restoreConfigFile(this.file, before);
      throw toHavenError(err, { code: 'CONFIG_INVALID' });
    }
    return next;
  }

  /** The file changed on disk (an editor): read it now, inside the queue, and apply it. */
  reload(): Promise<LoadedConfig> {
    return this.run(async () => {
      const next = await loadConfig(this.file, this.#o.plugins ?? []);
      await this.#o.apply(next);
      return next;
    });
  }
}
