import { randomBytes, randomInt } from 'node:crypto';
import { constants as fsc, promises as fs } from 'node:fs';
import path from 'node:path';
import { HavenError } from './errors.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random string from a CSPRNG, uniform over the alphabet (no modulo bias). */
export function randomToken(length: number, alphabet = ALNUM): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export { randomBytes };

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}` : String(err);
}

/**
 * Create (mode 0700) or check a state directory. An existing directory readable or writable by
 * group/others is refused: secrets must not sit where other users can read them.
 */
export async function ensureStateDir(dir: string, plugin = 'core'): Promise<string> {
  const abs = path.resolve(dir);
  try {
    await fs.mkdir(abs, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new HavenError(`cannot create state directory ${abs} (${describeFsError(err)}): choose a writable stateDir or fix its parent's permissions`, {
      code: 'STATE_DIR',
      plugin,
      cause: err,
      details: { path: abs },
    });
  }
  const st = await fs.stat(abs);
  if (!st.isDirectory()) {
    throw new HavenError(`state directory ${abs} is not a directory`, { code: 'STATE_DIR', plugin, details: { path: abs } });
  }
  if ((st.mode & 0o077) !== 0) {
    throw new HavenError(
      `state directory ${abs} has mode ${(st.mode & 0o777).toString(8)}; it holds secrets and must be private: run chmod 700 ${abs}`,
      { code: 'STATE_PERMISSIONS', plugin, details: { path: abs, mode: st.mode & 0o777 } },
    );
  }
  try {
    await fs.access(abs, fsc.W_OK);
  } catch (err) {
    throw new HavenError(`state directory ${abs} is not writable (${describeFsError(err)}): fix its owner or choose another stateDir`, {
      code: 'STATE_DIR',
      plugin,
      cause: err,
      details: { path: abs },
    });
  }
  return abs;
}

/**
 * Read a secret file, refusing it if group/others can access it. Resolves undefined when absent.
 * Error messages name the file, never its content.
 */
export async function readPrivateFile(file: string, plugin = 'core'): Promise<string | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HavenError(`cannot read ${file} (${describeFsError(err)})`, { code: 'STATE_DIR', plugin, cause: err, details: { path: file } });
  }
  try {
    const st = await handle.stat();
    if ((st.mode & 0o077) !== 0) {
      throw new HavenError(
        `${file} has mode ${(st.mode & 0o777).toString(8)} but holds a secret: run chmod 600 ${file} (and consider rotating the secret)`,
        { code: 'STATE_PERMISSIONS', plugin, details: { path: file, mode: st.mode & 0o777 } },
      );
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Write a file atomically with mode 0600 (temp file in the same directory, fsync, rename). */
export async function writePrivateFile(file: string, content: string, plugin = 'core'): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await fs.open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.chmod(tmp, 0o600);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw new HavenError(`cannot write ${file} (${describeFsError(err)}): check that the state directory is writable`, {
      code: 'STATE_DIR',
      plugin,
      cause: err,
      details: { path: file },
    });
  }
}

/** Write a non-secret file atomically (mode 0644), e.g. haven.yaml. */
export async function writeFileAtomic(file: string, content: string, mode = 0o644): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, content, { mode, flag: 'wx' });
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}
