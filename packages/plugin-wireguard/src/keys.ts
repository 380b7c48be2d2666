import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { ensureStateDir, readPrivateFile, writePrivateFile } from '@haven/core';
import { PLUGIN, wgError } from './errors.js';

/** A WireGuard key pair, both halves 32 bytes in standard base64 (as `wg genkey` / `wg pubkey` print them). */
export interface KeyPair {
  /** Secret. Never log it, never put it on a command line. */
  privateKey: string;
  publicKey: string;
}

/** A key pair kept on disk; `file` (mode 0600) is what `wg set ... private-key <file>` reads. */
export interface StoredKeyPair extends KeyPair {
  file: string;
}

/** DER header of a PKCS#8 X25519 private key; the raw 32 key bytes follow it. */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
/** DER header of an SPKI X25519 public key; the raw 32 key bytes follow it. */
const SPKI_X25519_PREFIX_LENGTH = 12;

const KEY_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** Folder under the state directory that holds this plugin's files. */
export const WIREGUARD_DIR = 'wireguard';
export const PRIVATE_KEY_FILE = 'private.key';

/** True when `key` is 32 bytes in canonical base64 (44 characters ending in `=`). */
export function isWireGuardKey(key: unknown): key is string {
  return typeof key === 'string' && KEY_RE.test(key) && Buffer.from(key, 'base64').length === 32;
}

/**
 * Check a key someone pasted; trims surrounding whitespace. `what` names it in the message
 * (`public key of node "alice"`). The message shows only the key's length, never the key.
 */
export function parseKey(input: unknown, what = 'WireGuard key'): string {
  const key = typeof input === 'string' ? input.trim() : input;
  if (isWireGuardKey(key)) return key;
  const got = typeof key === 'string' ? `${key.length} characters` : typeof key;
  throw wgError('KEY_INVALID', `${what} is not a WireGuard key (expected 44 characters of base64 ending in "=", got ${got}): copy the whole key again`, {
    details: { length: typeof key === 'string' ? key.length : undefined },
  });
}

/** Clamp a raw X25519 scalar the way `wg genkey` does. */
function clamp(raw: Buffer): Buffer {
  const k = Buffer.from(raw);
  k[0] = k[0]! & 248;
  k[31] = (k[31]! & 127) | 64;
  return k;
}

/** The public key of a private key, byte-identical to `wg pubkey`. */
export function publicKeyFromPrivate(privateKey: string): string {
  const raw = Buffer.from(parseKey(privateKey, 'private key'), 'base64');
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_X25519_PREFIX_LENGTH).toString('base64');
}

/** A fresh key pair from the system CSPRNG, the same shape `wg genkey | wg pubkey` makes. */
export function generateKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const raw = clamp(der.subarray(der.length - 32));
  const privateB64 = raw.toString('base64');
  return { privateKey: privateB64, publicKey: publicKeyFromPrivate(privateB64) };
}

/**
 * This side's key pair from `<stateDir>/wireguard/private.key` (mode 0600), created on first use and
 * kept across restarts. A group/world-readable key file is refused (core's readPrivateFile).
 */
export async function loadOrCreateKeyPair(stateDir: string): Promise<StoredKeyPair> {
  const dir = await ensureStateDir(path.join(stateDir, WIREGUARD_DIR), PLUGIN);
  const file = path.join(dir, PRIVATE_KEY_FILE);
  const stored = await readPrivateFile(file, PLUGIN);
  if (stored !== undefined) {
    const privateKey = stored.trim();
    if (!isWireGuardKey(privateKey)) {
      throw wgError(
        'KEY_STORE',
        `${file} does not hold a WireGuard private key; it was left untouched. Restore it, or move it away to make a new key (the origin then needs this node's new share code)`,
        { details: { path: file } },
      );
    }
    return { privateKey, publicKey: publicKeyFromPrivate(privateKey), file };
  }
  const pair = generateKeyPair();
  await writePrivateFile(file, `${pair.privateKey}\n`, PLUGIN);
  return { ...pair, file };
}
