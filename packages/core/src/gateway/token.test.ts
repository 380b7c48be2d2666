import { describe, expect, it } from 'vitest';
import { deriveTokenKey, signViewerToken, tokenOfQuery, verifyViewerToken } from './token.js';

const key = deriveTokenKey('RelayPass1234567890');
const claims = { ip: '198.51.100.7', stream: 'live', node: 'par' };
const t0 = 1_800_000_000_000;

describe('viewer tokens', () => {
  it('verify for the same address, stream and node before expiry', () => {
    const t = signViewerToken(key, claims, 60, t0);
    expect(t).toMatch(/^v1\.[0-9a-z]+\.[A-Za-z0-9_-]{32}$/);
    expect(verifyViewerToken(key, t, claims, t0 + 59_000)).toBe('ok');
    expect(verifyViewerToken(key, t, { ...claims, ip: '::ffff:198.51.100.7' }, t0)).toBe('ok');
  });

  it('refuse another address, stream, node, key, or a late use', () => {
    const t = signViewerToken(key, claims, 60, t0);
    expect(verifyViewerToken(key, t, { ...claims, ip: '198.51.100.8' }, t0)).toBe('bad-signature');
    expect(verifyViewerToken(key, t, { ...claims, stream: 'other' }, t0)).toBe('bad-signature');
    expect(verifyViewerToken(key, t, { ...claims, node: 'fra' }, t0)).toBe('bad-signature');
    expect(verifyViewerToken(deriveTokenKey('another'), t, claims, t0)).toBe('bad-signature');
    expect(verifyViewerToken(key, t, claims, t0 + 61_000)).toBe('expired');
  });

  it('refuse forged, truncated and oversized tokens without throwing', () => {
    const t = signViewerToken(key, claims, 60, t0);
    expect(verifyViewerToken(key, t.slice(0, -1), claims, t0)).toBe('malformed');
    expect(verifyViewerToken(key, '', claims, t0)).toBe('malformed');
    expect(verifyViewerToken(key, 'x'.repeat(5000), claims, t0)).toBe('malformed');
    // A later expiry with the old signature.
    const [, exp, mac] = t.split('.');
    const later = (Number.parseInt(exp as string, 36) + 100).toString(36);
    expect(verifyViewerToken(key, `v1.${later}.${mac}`, claims, t0)).toBe('bad-signature');
    // A far-future expiry, even if signed, is not accepted (lifetime capped).
    const far = signViewerToken(key, claims, 60, t0 + 3_600_000);
    expect(verifyViewerToken(key, far, claims, t0)).toBe('expired');
  });

  it('tokenOfQuery finds the token among other parameters', () => {
    expect(tokenOfQuery('a=1&token=v1.x.y')).toBe('v1.x.y');
    expect(tokenOfQuery('?token=abc')).toBe('abc');
    expect(tokenOfQuery('token=')).toBeUndefined();
    expect(tokenOfQuery(undefined)).toBeUndefined();
  });
});
