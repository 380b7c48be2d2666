import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HavenError } from './errors.js';
import { SecretRedactor } from './logger.js';
import { SecretStore } from './secrets.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'haven-sec-'));
});
afterEach(async () => {
  await chmod(root, 0o700).catch(() => {});
  await rm(root, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(HavenError);
    return (err as HavenError).code;
  }
  throw new Error('expected a rejection');
}

describe('SecretStore', () => {
  it('generates strong secrets on first start with private permissions', async () => {
    const dir = path.join(root, 'state');
    const store = await SecretStore.open(dir);
    const s = store.get();
    expect(s.streamKey).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(s.viewerPassword).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(s.relayPassword).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(new Set(Object.values(s)).size).toBe(3);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
  });

  it('reuses secrets across restarts', async () => {
    const dir = path.join(root, 'state');
    const a = (await SecretStore.open(dir)).get();
    const b = (await SecretStore.open(dir)).get();
    expect(b).toEqual(a);
  });

  it('fills in a missing secret without touching the others', async () => {
    const dir = path.join(root, 'state');
    const first = await SecretStore.open(dir);
    const before = first.get();
    const data = JSON.parse(await readFile(first.file, 'utf8')) as Record<string, string>;
    delete data.relayPassword;
    await writeFile(first.file, JSON.stringify(data), { mode: 0o600 });
    const after = (await SecretStore.open(dir)).get();
    expect(after.streamKey).toBe(before.streamKey);
    expect(after.viewerPassword).toBe(before.viewerPassword);
    expect(after.relayPassword).not.toBe(before.relayPassword);
  });

  it('rotates one secret, persists it, and emits', async () => {
    const dir = path.join(root, 'state');
    const store = await SecretStore.open(dir);
    const before = store.get();
    const seen: string[] = [];
    store.on('rotated', (name) => seen.push(name));
    await store.rotate('viewerPassword');
    const after = (await SecretStore.open(dir)).get();
    expect(after.viewerPassword).not.toBe(before.viewerPassword);
    expect(after.streamKey).toBe(before.streamKey);
    expect(seen).toEqual(['viewerPassword']);
  });

  it('concurrent rotations of different secrets all land, in memory and on disk', async () => {
    const dir = path.join(root, 'state');
    const store = await SecretStore.open(dir);
    const before = store.get();
    await Promise.all([store.rotate('viewerPassword'), store.rotate('streamKey'), store.rotate('relayPassword'), store.adopt({ viewerPassword: 'Adopted0123456789' })]);
    const mem = store.get();
    const disk = (await SecretStore.open(dir)).get();
    expect(disk).toEqual(mem);
    expect(mem.streamKey).not.toBe(before.streamKey);
    expect(mem.relayPassword).not.toBe(before.relayPassword);
    expect(mem.viewerPassword).toBe('Adopted0123456789');
  });

  it('refuses a secrets file readable by others and says how to fix it', async () => {
    const dir = path.join(root, 'state');
    const store = await SecretStore.open(dir);
    await chmod(store.file, 0o644);
    const err = await SecretStore.open(dir).catch((e: unknown) => e as HavenError);
    expect(err).toBeInstanceOf(HavenError);
    expect((err as HavenError).code).toBe('STATE_PERMISSIONS');
    expect((err as HavenError).message).toContain(`chmod 600 ${store.file}`);
    // Nothing was overwritten.
    expect((await stat(store.file)).mode & 0o777).toBe(0o644);
  });

  it('refuses a state directory open to others', async () => {
    const dir = path.join(root, 'open');
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    expect(await codeOf(SecretStore.open(dir))).toBe('STATE_PERMISSIONS');
  });

  it('names an unwritable state directory', async () => {
    const blocker = path.join(root, 'file');
    await writeFile(blocker, 'x');
    expect(await codeOf(SecretStore.open(path.join(blocker, 'state')))).toBe('STATE_DIR');
  });

  it('leaves a corrupt secrets file untouched and never prints its content', async () => {
    const dir = path.join(root, 'state');
    const store = await SecretStore.open(dir);
    const garbage = '{"streamKey": "SuperSecretValue123", ';
    await writeFile(store.file, garbage, { mode: 0o600 });
    const err = (await SecretStore.open(dir).catch((e: unknown) => e)) as HavenError;
    expect(err.code).toBe('STATE_CORRUPT');
    expect(err.message).not.toContain('SuperSecretValue123');
    expect(JSON.stringify(err)).not.toContain('SuperSecretValue123');
    expect(String((err as { cause?: unknown }).cause ?? '')).not.toContain('SuperSecretValue123');
    expect(await readFile(store.file, 'utf8')).toBe(garbage);
  });

  it('rejects a secret with the wrong shape without printing it', async () => {
    const dir = path.join(root, 'state');
    const store = await SecretStore.open(dir);
    await writeFile(store.file, JSON.stringify({ streamKey: 'short:bad' }), { mode: 0o600 });
    const err = (await SecretStore.open(dir).catch((e: unknown) => e)) as HavenError;
    expect(err.code).toBe('STATE_CORRUPT');
    expect(err.message).toContain('streamKey');
    expect(err.message).not.toContain('short:bad');
  });

  it('registers every secret with the redactor, including rotated ones', async () => {
    const redactor = new SecretRedactor();
    const store = await SecretStore.open(path.join(root, 'state'), redactor);
    const s = store.get();
    expect(redactor.redact(`key=${s.streamKey} pw=${s.viewerPassword}`)).toBe('key=[redacted] pw=[redacted]');
    const next = await store.rotate('streamKey');
    expect(redactor.redact(next.streamKey)).toBe('[redacted]');
  });
});

describe('SecretStore.adopt', () => {
  it("takes the origin's values, persists them, and refuses malformed ones", async () => {
    const dir = path.join(root, 'state');
    const store = await SecretStore.open(dir);
    const seen: string[] = [];
    store.on('rotated', (n) => seen.push(n));
    const value = 'OriginViewerPass1234';
    await store.adopt({ viewerPassword: value });
    await store.adopt({ viewerPassword: value });
    expect((await SecretStore.open(dir)).get().viewerPassword).toBe(value);
    expect(seen).toEqual(['viewerPassword']);
    await expect(store.adopt({ relayPassword: 'bad value!' })).rejects.toThrow(/cannot adopt relayPassword/);
  });
});
