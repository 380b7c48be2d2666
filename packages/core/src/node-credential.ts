import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Each node's own credential: the bearer of its reports (and of its other calls to the origin over the
 * VPN) and the password of its relay pulls (user `relay`). Derived from the origin's relay password and
 * the node's name and WireGuard key, so the origin stores nothing per node and checks a credential
 * against the nodes of its current config only: `haven node remove` revokes it at once, and a node
 * added again under the same name with a new key gets a new one. Rotating the relay password on the
 * origin changes every node's credential (nodes fetch theirs over the VPN).
 */

/** What names a node for its credential (a node entry of the origin's config has both). */
export interface CredentialSubject {
  name: string;
  publicKey?: string | undefined;
}

/** The node's credential (64 hex characters), or undefined when the entry has no WireGuard key. */
export function nodeCredential(originSecret: string, node: CredentialSubject): string | undefined {
  if (!originSecret || !node.publicKey) return undefined;
  return createHmac('sha256', originSecret).update(`stream-haven node credential v1\n${node.name}\n${node.publicKey}`).digest('hex');
}

const sha = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * The node a credential belongs to, among `nodes` (the origin's current ones); undefined for any other
 * value (the relay password itself included). Every candidate is compared in constant time.
 */
export function nodeOfCredential(originSecret: string, nodes: readonly CredentialSubject[], given: string): string | undefined {
  if (!given) return undefined;
  const g = sha(given);
  let found: string | undefined;
  for (const n of nodes) {
    const c = nodeCredential(originSecret, n);
    if (c !== undefined && timingSafeEqual(g, sha(c)) && found === undefined) found = n.name;
  }
  return found;
}

/**
 * What an origin hands its entries so a relay parent can check a child's pull credential without
 * holding it: SHA-256 (hex) of the credential, labelled. The credential is 256 random-looking bits,
 * so the verifier does not give it away.
 */
export function credentialVerifier(credential: string): string {
  return createHash('sha256').update(`stream-haven relay verifier v1\n${credential}`).digest('hex');
}

/** Whether `given` matches one of `verifiers` (each compared in constant time). */
export function matchesVerifier(given: string, verifiers: Iterable<string | undefined>): boolean {
  if (!given) return false;
  const g = Buffer.from(credentialVerifier(given), 'hex');
  let ok = false;
  for (const v of verifiers) {
    if (v === undefined || !/^[0-9a-f]{64}$/.test(v)) continue;
    if (timingSafeEqual(g, Buffer.from(v, 'hex'))) ok = true;
  }
  return ok;
}
