import { describe, expect, it } from 'vitest';
import {
  decodeJoinBundle,
  decodeShareCode,
  encodeJoinBundle,
  encodeShareCode,
  JOIN_BUNDLE_PREFIX,
  JOIN_BUNDLE_WARNING,
  SHARE_CODE_PREFIX,
  type JoinBundle,
} from './codes.js';
import { generateKeyPair } from './keys.js';

const node = generateKeyPair();
const origin = generateKeyPair();
const bundle: JoinBundle = {
  origin: { endpoint: '198.51.100.7:51820', publicKey: origin.publicKey, address: '10.77.0.1' },
  node: { name: 'alice', address: '10.77.0.23' },
  subnet: '10.77.0.0/24',
  relay: { url: 'rtsp://10.77.0.1:8555', user: 'relay', password: 'RelayPassword1234567890abcdefghijKLMNOPQ' },
  viewer: { user: 'viewer', password: 'ViewerPassword123456' },
  streams: ['live'],
};
const INCOMPLETE = /the code is incomplete or was changed: copy it again/;

describe('share code', () => {
  it('round-trips and survives chat line wrapping', () => {
    const code = encodeShareCode({ publicKey: node.publicKey, region: 'eu-central', name: 'alice' });
    expect(code.startsWith(SHARE_CODE_PREFIX)).toBe(true);
    expect(decodeShareCode(code)).toEqual({ publicKey: node.publicKey, region: 'eu-central', name: 'alice' });
    const wrapped = ` ${code.slice(0, 20)}\n${code.slice(20, 50)}\r\n  ${code.slice(50)} `;
    expect(decodeShareCode(wrapped).publicKey).toBe(node.publicKey);
    expect(decodeShareCode(encodeShareCode({ publicKey: node.publicKey, region: 'us-east' })).name).toBeUndefined();
  });

  it('says a truncated or changed paste is incomplete', () => {
    const code = encodeShareCode({ publicKey: node.publicKey, region: 'eu-central' });
    for (const cut of [code.length - 1, code.length - 9, 30, 8]) expect(() => decodeShareCode(code.slice(0, cut))).toThrow(INCOMPLETE);
    const i = 20;
    const changed = code.slice(0, i) + (code[i] === 'A' ? 'B' : 'A') + code.slice(i + 1);
    expect(() => decodeShareCode(changed)).toThrow(INCOMPLETE);
  });

  it('explains other mistakes', () => {
    expect(() => decodeShareCode('')).toThrow(/share code is empty/);
    expect(() => decodeShareCode('hello there')).toThrow(/not a Stream Haven share code \(it starts with havn1-\)/);
    expect(() => decodeShareCode(encodeJoinBundle(bundle))).toThrow(/this is a join bundle, not a share code/);
    const v2 = encodeShareCode({ publicKey: node.publicKey, region: 'eu-central' }).replace('havn1-', 'havn2-');
    expect(() => decodeShareCode(v2)).toThrow(/version 2; this Stream Haven reads version 1/);
  });

  it('refuses to make a code with a bad key or region', () => {
    expect(() => encodeShareCode({ publicKey: node.publicKey.slice(0, 40), region: 'eu-central' })).toThrow(/publicKey: expected a WireGuard public key/);
    expect(() => encodeShareCode({ publicKey: node.publicKey, region: 'atlantis' })).toThrow(/region: unknown region/);
    expect(() => encodeShareCode({ publicKey: node.publicKey, region: 'eu-central', name: 'Bad Name' })).toThrow(/name:/);
  });
});

describe('join bundle', () => {
  it('round-trips without a viewer password (a private origin sends none)', () => {
    const { password: _omitted, ...viewer } = bundle.viewer;
    expect(decodeJoinBundle(encodeJoinBundle({ ...bundle, viewer })).viewer).toEqual({ user: bundle.viewer.user });
  });

  it('round-trips', () => {
    const text = encodeJoinBundle(bundle);
    expect(text.startsWith(JOIN_BUNDLE_PREFIX)).toBe(true);
    expect(decodeJoinBundle(text)).toEqual(bundle);
    expect(JOIN_BUNDLE_WARNING).toMatch(/contains passwords/);
  });

  it('says a truncated or changed paste is incomplete, never echoing passwords', () => {
    const text = encodeJoinBundle(bundle);
    for (const cut of [text.length - 1, Math.floor(text.length / 2), 12]) {
      const err = (() => {
        try {
          decodeJoinBundle(text.slice(0, cut));
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(err?.message).toMatch(INCOMPLETE);
      expect(err?.message).not.toContain(bundle.relay.password);
    }
    expect(() => decodeJoinBundle(text.replace(/.(\.[^.]+)$/, 'x$1'))).toThrow(INCOMPLETE);
    expect(() => decodeJoinBundle(encodeShareCode({ publicKey: node.publicKey, region: 'eu-central' }))).toThrow(/share code, not a join bundle/);
  });

  it('refuses an address outside the subnet or a bad origin key without echoing secrets', () => {
    const outside = { ...bundle, node: { address: '10.99.0.5' } };
    expect(() => encodeJoinBundle(outside)).toThrow(/node\.address: outside the subnet 10\.77\.0\.0\/24/);
    const badKey = { ...bundle, origin: { ...bundle.origin, publicKey: 'abc' } };
    expect(() => encodeJoinBundle(badKey)).toThrow(/origin\.publicKey/);
    const badUrl = { ...bundle, relay: { ...bundle.relay, url: 'rtsp://relay:secret@10.77.0.1:8555' } };
    const err = (() => {
      try {
        encodeJoinBundle(badUrl);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/relay\.url/);
    expect(err?.message).not.toContain(bundle.relay.password);
  });
});
