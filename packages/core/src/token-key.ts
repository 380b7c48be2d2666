import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/**
 * A Haven's viewer token key: one of its secrets, kept in the state directory (`token-key-file.ts`) and
 * handed to every plugin. What a token says and how it is checked is the gateway's (`@haven/gateway`).
 */

const PUBLIC_KEY = /^[A-Za-z0-9_-]{43}$/;

/** The key id a token names: 11 base64url characters of SHA-256 over the raw public key. */
export function tokenKeyId(publicKey: string): string {
  return createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('base64url').slice(0, 11);
}

/** An Ed25519 public key from its base64url raw form; undefined when it is not one. */
function importPublicKey(publicKey: string): KeyObject | undefined {
  if (!PUBLIC_KEY.test(publicKey)) return undefined;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/** Whether `s` is a public token key as reports and routing states carry it (base64url of 32 raw bytes). */
export function isTokenPublicKey(s: string): boolean {
  return importPublicKey(s) !== undefined;
}

/**
 * A gateway's token key: its own Ed25519 key pair (signs) and the public keys of the other gateways
 * whose tokens it accepts (read at every verification, so a routing state without a node takes that
 * node's key away at once). The private key never leaves this object.
 */
export class ViewerTokenKey {
  /** This gateway's public key, base64url of the raw 32 bytes: what a node reports to its origin. */
  readonly publicKey: string;
  /** The key id in the tokens it signs. */
  readonly id: string;
  readonly #private: KeyObject;
  readonly #own: KeyObject;
  #accepted: () => Iterable<string | undefined> = () => [];
  /** Imported keys by their base64url form (pruned to the accepted set when it grows). */
  #cache = new Map<string, { id: string; key: KeyObject | undefined }>();

  constructor(privateKey?: KeyObject) {
    this.#private = privateKey ?? generateKeyPairSync('ed25519').privateKey;
    if (this.#private.asymmetricKeyType !== 'ed25519') throw new TypeError('a viewer token key must be an Ed25519 private key');
    this.#own = createPublicKey(this.#private);
    this.publicKey = this.#own.export({ format: 'jwk' }).x as string;
    this.id = tokenKeyId(this.publicKey);
  }

  /** The private key as PKCS#8 PEM, to keep in a 0600 file. */
  exportPrivate(): string {
    return this.#private.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  /** Accept tokens signed with these public keys too (besides its own); `source` is read per verification. */
  acceptFrom(source: () => Iterable<string | undefined>): void {
    this.#accepted = source;
    this.#cache.clear();
  }

  /** @internal The signature over `data` with this gateway's own key. */
  signBytes(data: Buffer): Buffer {
    return sign(null, data, this.#private);
  }

  /** @internal The public key for a key id, when it is this gateway's own or one it accepts now. */
  keyFor(id: string): KeyObject | undefined {
    if (id === this.id) return this.#own;
    let found: KeyObject | undefined;
    let count = 0;
    for (const pub of this.#accepted()) {
      if (pub === undefined) continue;
      count++;
      let entry = this.#cache.get(pub);
      if (!entry) {
        entry = { id: tokenKeyId(pub), key: importPublicKey(pub) };
        this.#cache.set(pub, entry);
      }
      if (entry.id === id && entry.key) found = entry.key;
    }
    // Keys of nodes gone long ago are not kept forever.
    if (this.#cache.size > 2 * count + 64) this.#cache.clear();
    return found;
  }

  /** Never print the key (logs, errors). */
  toJSON(): { publicKey: string } {
    return { publicKey: this.publicKey };
  }
}

