import { mkdtemp, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair, isWireGuardKey, loadOrCreateKeyPair, parseKey, publicKeyFromPrivate } from './keys.js';

// RFC 7748 section 6.1 test vector (Alice), base64 as wg prints it.
const ALICE_PRIV = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex').toString('base64');
const ALICE_PUB = Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex').toString('base64');

describe('keys', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const tmp = async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'hvwg-keys-'));
    dirs.push(d);
    return d;
  };

  it('derives the RFC 7748 public key', () => {
    expect(publicKeyFromPrivate(ALICE_PRIV)).toBe(ALICE_PUB);
  });

  it('generates clamped 32-byte keys whose halves match', () => {
    const pair = generateKeyPair();
    expect(isWireGuardKey(pair.privateKey)).toBe(true);
    expect(isWireGuardKey(pair.publicKey)).toBe(true);
    const raw = Buffer.from(pair.privateKey, 'base64');
    expect(raw[0]! & 7).toBe(0);
    expect(raw[31]! & 0xc0).toBe(0x40);
    expect(publicKeyFromPrivate(pair.privateKey)).toBe(pair.publicKey);
    expect(generateKeyPair().privateKey).not.toBe(pair.privateKey);
  });

  it.each([
    ['empty', ''],
    ['truncated', ALICE_PUB.slice(0, 40)],
    ['one char off the end', ALICE_PUB.slice(0, 43)],
    ['not base64', `${'!'.repeat(43)}=`],
    ['non-canonical last char', `${ALICE_PUB.slice(0, 42)}B=`],
    ['too long', `${ALICE_PUB}AAAA`],
  ])('refuses a %s key without echoing it', (_label, key) => {
    let message = '';
    try {
      parseKey(key, 'public key of node "a"');
    } catch (err) {
      message = (err as Error).message;
      expect((err as { code?: string }).code).toBe('KEY_INVALID');
    }
    expect(message).toMatch(/public key of node "a" is not a WireGuard key/);
    if (key.length > 8) expect(message).not.toContain(key);
  });

  it('trims whitespace around a pasted key', () => {
    expect(parseKey(`  ${ALICE_PUB}\n`)).toBe(ALICE_PUB);
  });

  it('stores the private key 0600 and reuses it across restarts', async () => {
    const dir = await tmp();
    const a = await loadOrCreateKeyPair(dir);
    const b = await loadOrCreateKeyPair(dir);
    expect(b).toEqual(a);
    const st = await stat(path.join(dir, 'wireguard', 'private.key'));
    expect(st.mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, 'wireguard'))).mode & 0o777).toBe(0o700);
  });

  it('refuses a world-readable or corrupt key file without printing it', async () => {
    const dir = await tmp();
    const pair = await loadOrCreateKeyPair(dir);
    const file = path.join(dir, 'wireguard', 'private.key');
    await chmod(file, 0o644);
    await expect(loadOrCreateKeyPair(dir)).rejects.toThrow(/chmod 600/);
    await chmod(file, 0o600);
    await writeFile(file, 'garbage\n');
    const err = await loadOrCreateKeyPair(dir).catch((e: Error) => e);
    expect((err as { code?: string }).code).toBe('KEY_STORE');
    expect((err as Error).message).not.toContain(pair.privateKey);
  });
});
