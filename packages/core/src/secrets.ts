import path from 'node:path';
import { EventEmitter } from 'eventemitter3';
import type { HavenSecrets, SecretName } from './contracts.js';
import { HavenError } from './errors.js';
import type { SecretRedactor } from './logger.js';
import { ensureStateDir, randomToken, readPrivateFile, writePrivateFile } from './state.js';

export const SECRETS_FILE = 'secrets.json';

/** Lengths of generated secrets. Alphanumeric only: safe in URLs, SRT stream ids and MediaMTX credentials. */
const LENGTHS: Record<SecretName, number> = { streamKey: 32, viewerPassword: 20, relayPassword: 40 };
const NAMES = Object.keys(LENGTHS) as SecretName[];
const VALID = /^[A-Za-z0-9]{12,128}$/;

interface StoredSecrets extends HavenSecrets {
  version: 1;
}

/**
 * The Haven's generated secrets: created with a CSPRNG on first start, stored in
 * `<stateDir>/secrets.json` (0600, directory 0700), reused across restarts, rotated on demand.
 * Values are registered with the log redactor the moment they are read or made.
 */
export class SecretStore extends EventEmitter<{ rotated: [SecretName, HavenSecrets] }> {
  readonly file: string;
  #secrets: HavenSecrets | undefined;
  readonly #redactor: SecretRedactor | undefined;

  private constructor(readonly stateDir: string, redactor?: SecretRedactor) {
    super();
    this.file = path.join(stateDir, SECRETS_FILE);
    this.#redactor = redactor;
  }

  /** Open the store, creating missing secrets. Existing secrets are never replaced. */
  static async open(stateDir: string, redactor?: SecretRedactor): Promise<SecretStore> {
    const dir = await ensureStateDir(stateDir);
    const store = new SecretStore(dir, redactor);
    await store.#load();
    return store;
  }

  /** A store over fixed values (tests, embedding); nothing touches the disk. */
  static fromValues(secrets: HavenSecrets, redactor?: SecretRedactor): SecretStore {
    const store = new SecretStore('', redactor);
    store.#secrets = { ...secrets };
    for (const n of NAMES) redactor?.add(secrets[n]);
    return store;
  }

  get(): HavenSecrets {
    if (!this.#secrets) throw new HavenError('secrets are not loaded', { code: 'NOT_STARTED' });
    return { ...this.#secrets };
  }

  #chain: Promise<unknown> = Promise.resolve();

  /** One change at a time: two rotations (or a rotation and an adoption) never overwrite each other. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(fn, fn);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  /** Replace one secret with a new random value; persisted before it is returned. Rotations run one at a time. */
  rotate(name: SecretName): Promise<HavenSecrets> {
    return this.#serial(() => this.#rotate(name));
  }

  async #rotate(name: SecretName): Promise<HavenSecrets> {
    if (!NAMES.includes(name)) {
      throw new HavenError(`unknown secret "${name}": expected one of ${NAMES.join(', ')}`, { code: 'CONFIG_INVALID' });
    }
    const next = { ...this.get(), [name]: randomToken(LENGTHS[name]) };
    this.#redactor?.add(next[name]);
    if (this.file && this.stateDir) await this.#write(next);
    this.#secrets = next;
    this.emit('rotated', name, this.get());
    return this.get();
  }

  /**
   * Take secrets made elsewhere (a node adopts the origin's viewer and relay passwords from its join
   * bundle or from the origin). Persisted before it resolves; emits `rotated` for each changed one.
   */
  adopt(values: Partial<HavenSecrets>): Promise<HavenSecrets> {
    return this.#serial(() => this.#adopt(values));
  }

  async #adopt(values: Partial<HavenSecrets>): Promise<HavenSecrets> {
    const next = this.get();
    const changed: SecretName[] = [];
    for (const [name, value] of Object.entries(values) as Array<[SecretName, string | undefined]>) {
      if (value === undefined) continue;
      if (!NAMES.includes(name) || typeof value !== 'string' || !VALID.test(value)) {
        throw new HavenError(`cannot adopt ${String(name)}: expected 12-128 letters and digits`, { code: 'STATE_CORRUPT', details: { key: name } });
      }
      this.#redactor?.add(value);
      if (next[name] !== value) {
        next[name] = value;
        changed.push(name);
      }
    }
    if (changed.length === 0) return this.get();
    if (this.file && this.stateDir) await this.#write(next);
    this.#secrets = next;
    for (const name of changed) this.emit('rotated', name, this.get());
    return this.get();
  }

  async #load(): Promise<void> {
    const raw = await readPrivateFile(this.file);
    let stored: Partial<StoredSecrets> = {};
    if (raw !== undefined) {
      try {
        stored = JSON.parse(raw) as Partial<StoredSecrets>;
      } catch (err) {
        throw new HavenError(
          `${this.file} is not valid JSON; it was left untouched. Restore it from a backup, or move it away to generate new secrets (viewers and nodes will need the new ones)`,
          { code: 'STATE_CORRUPT', cause: err instanceof Error ? new Error(err.name) : undefined, details: { path: this.file } },
        );
      }
      if (typeof stored !== 'object' || stored === null) stored = {};
      for (const n of NAMES) {
        const v = stored[n];
        if (v !== undefined && (typeof v !== 'string' || !VALID.test(v))) {
          throw new HavenError(
            `${this.file}: ${n} is not a valid secret (expected 12-128 letters and digits); it was left untouched. Fix or remove that key to regenerate it`,
            { code: 'STATE_CORRUPT', details: { path: this.file, key: n } },
          );
        }
      }
    }
    const secrets = {} as HavenSecrets;
    let changed = raw === undefined;
    for (const n of NAMES) {
      const existing = stored[n];
      if (existing) secrets[n] = existing;
      else {
        secrets[n] = randomToken(LENGTHS[n]);
        changed = true;
      }
      this.#redactor?.add(secrets[n]);
    }
    if (changed) await this.#write(secrets);
    this.#secrets = secrets;
  }

  async #write(secrets: HavenSecrets): Promise<void> {
    const body: StoredSecrets = { version: 1, ...secrets };
    await writePrivateFile(this.file, `${JSON.stringify(body, null, 2)}\n`);
  }

  /** Secret-free view for logs and status. */
  toJSON(): Record<string, string> {
    return { file: this.file, secrets: NAMES.join(', ') };
  }
}
