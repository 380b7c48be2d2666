/**
 * Viewer token keys for tests. The gateway and the media servers of a test may run in different
 * processes, so their keys come from fixed seeds: `testTokenKey('gateway')` is the same key wherever
 * it is made. A verifier is a node's key that accepts the given gateways' keys (what its routing state
 * would say).
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { ViewerTokenKey } from '@haven/core';

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The same Ed25519 token key for the same name, in every process. */
export function testTokenKey(name: string): ViewerTokenKey {
  const seed = createHash('sha256').update(`stream-haven test token key\n${name}`).digest();
  return new ViewerTokenKey(createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: 'der', type: 'pkcs8' }));
}

/** A node's key (`name`) that accepts tokens signed by these keys too. */
export function verifierKey(name: string, ...accepted: ViewerTokenKey[]): ViewerTokenKey {
  const key = testTokenKey(name);
  key.acceptFrom(() => accepted.map((k) => k.publicKey));
  return key;
}

/** The key test gateways (origin or entry) sign with. */
export const GATEWAY_KEY = testTokenKey('gateway');
