import { describe, expect, it } from 'vitest';
import { credentialVerifier, matchesVerifier, nodeCredential, nodeOfCredential } from './node-credential.js';

const SECRET = 'RelayPass0123456789abcdefghijklmnopqrstuv';
const a = { name: 'alice', publicKey: 'A'.repeat(43) + '=' };
const b = { name: 'bob', publicKey: 'B'.repeat(43) + '=' };

describe('per-node credentials', () => {
  it('each node gets its own, stable value, different from the relay password and from every other node', () => {
    const ca = nodeCredential(SECRET, a)!;
    expect(ca).toMatch(/^[0-9a-f]{64}$/);
    expect(nodeCredential(SECRET, a)).toBe(ca);
    expect(nodeCredential(SECRET, b)).not.toBe(ca);
    expect(ca).not.toContain(SECRET);
    // Same name, new machine (new WireGuard key): a new credential.
    expect(nodeCredential(SECRET, { name: 'alice', publicKey: 'C'.repeat(43) + '=' })).not.toBe(ca);
    // A rotated relay password changes it.
    expect(nodeCredential(`${SECRET}x`, a)).not.toBe(ca);
    expect(nodeCredential(SECRET, { name: 'nokey' })).toBeUndefined();
  });

  it('a credential names its node only while that node is among the current ones', () => {
    const ca = nodeCredential(SECRET, a)!;
    expect(nodeOfCredential(SECRET, [a, b], ca)).toBe('alice');
    expect(nodeOfCredential(SECRET, [a, b], nodeCredential(SECRET, b)!)).toBe('bob');
    // Removed: refused.
    expect(nodeOfCredential(SECRET, [b], ca)).toBeUndefined();
    // The Haven's relay password itself, or anything else, names no node.
    expect(nodeOfCredential(SECRET, [a, b], SECRET)).toBeUndefined();
    expect(nodeOfCredential(SECRET, [a, b], '')).toBeUndefined();
    expect(nodeOfCredential(SECRET, [a, b], ca.toUpperCase())).toBeUndefined();
    // After a rotation the old value is no node's.
    expect(nodeOfCredential(`${SECRET}x`, [a, b], ca)).toBeUndefined();
  });

  it("a relay parent checks a child's credential against the routing state's verifiers without holding it", () => {
    const ca = nodeCredential(SECRET, a)!;
    const verifiers = [credentialVerifier(ca), credentialVerifier(nodeCredential(SECRET, b)!)];
    expect(verifiers[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(verifiers[0]).not.toBe(ca);
    expect(matchesVerifier(ca, verifiers)).toBe(true);
    expect(matchesVerifier(ca, [verifiers[1], undefined, 'zz'])).toBe(false);
    expect(matchesVerifier('', verifiers)).toBe(false);
    expect(matchesVerifier(SECRET, verifiers)).toBe(false);
  });
});
