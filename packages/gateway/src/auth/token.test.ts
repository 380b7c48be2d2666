import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isTokenPublicKey, ViewerTokenKey } from '@haven/core';
import { signViewerToken, tokenOfQuery, verifyViewerToken } from './token.js';

const key = new ViewerTokenKey();
const claims = { ip: '198.51.100.7', stream: 'live', node: 'par' };
const t0 = 1_800_000_000_000;

describe('viewer tokens', () => {
  it('verify for the same address, stream and node before expiry', () => {
    const t = signViewerToken(key, claims, 60, t0);
    expect(t).toMatch(/^v2\.[0-9a-z]+\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{86}$/);
    expect(t.split('.')[2]).toBe(key.id);
    expect(verifyViewerToken(key, t, claims, t0 + 59_000)).toBe('ok');
    expect(verifyViewerToken(key, t, { ...claims, ip: '::ffff:198.51.100.7' }, t0)).toBe('ok');
  });

  it('refuse another address, stream, node, or a late use', () => {
    const t = signViewerToken(key, claims, 60, t0);
    expect(verifyViewerToken(key, t, { ...claims, ip: '198.51.100.8' }, t0)).toBe('bad-signature');
    expect(verifyViewerToken(key, t, { ...claims, stream: 'other' }, t0)).toBe('bad-signature');
    expect(verifyViewerToken(key, t, { ...claims, node: 'fra' }, t0)).toBe('bad-signature');
    expect(verifyViewerToken(key, t, claims, t0 + 61_000)).toBe('expired');
  });

  it("another gateway's token counts only while its key is accepted, and a removed key is refused at once", () => {
    const entryA = new ViewerTokenKey();
    const entryB = new ViewerTokenKey();
    const token = signViewerToken(entryA, claims, 60, t0);
    // B has not been told of A: refused.
    expect(verifyViewerToken(entryB, token, claims, t0)).toBe('unknown-signer');
    let state: Array<string | undefined> = [entryA.publicKey, undefined, 'not-a-key'];
    entryB.acceptFrom(() => state);
    expect(verifyViewerToken(entryB, token, claims, t0)).toBe('ok');
    // A leaves the routing state: the same token, still unexpired, is refused on the next check.
    state = [undefined];
    expect(verifyViewerToken(entryB, token, claims, t0)).toBe('unknown-signer');
    // A forger naming A's key id with its own signature gets nothing.
    state = [entryA.publicKey];
    const forger = new ViewerTokenKey();
    const forged = signViewerToken(forger, claims, 60, t0).split('.');
    forged[2] = entryA.id;
    expect(verifyViewerToken(entryB, forged.join('.'), claims, t0)).toBe('bad-signature');
    // Its own key is always accepted, whatever the source says.
    entryB.acceptFrom(() => []);
    expect(verifyViewerToken(entryB, signViewerToken(entryB, claims, 60, t0), claims, t0)).toBe('ok');
  });

  it('refuse forged, truncated and oversized tokens without throwing', () => {
    const t = signViewerToken(key, claims, 60, t0);
    expect(verifyViewerToken(key, t.slice(0, -1), claims, t0)).toBe('malformed');
    expect(verifyViewerToken(key, '', claims, t0)).toBe('malformed');
    expect(verifyViewerToken(key, 'x'.repeat(5000), claims, t0)).toBe('malformed');
    // The old shared-key format is no longer taken.
    expect(verifyViewerToken(key, `v1.${'a'.repeat(7)}.${'A'.repeat(32)}`, claims, t0)).toBe('malformed');
    // A later expiry with the old signature.
    const [, exp, kid, sig] = t.split('.');
    const later = (Number.parseInt(exp as string, 36) + 100).toString(36);
    expect(verifyViewerToken(key, `v2.${later}.${kid}.${sig}`, claims, t0)).toBe('bad-signature');
    // A far-future expiry, even if signed, is not accepted (lifetime capped).
    const far = signViewerToken(key, claims, 60, t0 + 3_600_000);
    expect(verifyViewerToken(key, far, claims, t0)).toBe('expired');
  });

  it('public keys and key ids', () => {
    expect(isTokenPublicKey(key.publicKey)).toBe(true);
    expect(isTokenPublicKey('A'.repeat(42))).toBe(false);
    expect(createHash('sha256').update(Buffer.from(key.publicKey, 'base64url')).digest('base64url').slice(0, 11)).toBe(key.id);
    // Nothing of the private key in what a logger would print.
    expect(JSON.stringify({ key })).toBe(JSON.stringify({ key: { publicKey: key.publicKey } }));
  });

  it('tokenOfQuery finds the token among other parameters', () => {
    expect(tokenOfQuery('a=1&token=v1.x.y')).toBe('v1.x.y');
    expect(tokenOfQuery('?token=abc')).toBe('abc');
    expect(tokenOfQuery('token=')).toBeUndefined();
    expect(tokenOfQuery(undefined)).toBeUndefined();
  });
});
