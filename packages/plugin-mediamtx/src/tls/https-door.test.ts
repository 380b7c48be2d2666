import { describe, expect, it } from 'vitest';
import { HttpsDoor } from './https-door.js';
import type { TlsManager, TlsStatus } from './manager.js';

function door(status: Partial<TlsStatus>): HttpsDoor {
  const tls = { status: () => ({ mode: 'acme', state: 'valid', ip: '192.0.2.3', ...status }) as TlsStatus } as unknown as TlsManager;
  return new HttpsDoor(tls, 'https://192.0.2.3:8443');
}
const cert = (o: { selfSigned?: boolean; notBefore?: string; notAfter?: string }) => ({
  serial: '01',
  issuer: 'Pebble Intermediate CA',
  selfSigned: false,
  notBefore: '2026-01-01T00:00:00Z',
  notAfter: '2026-01-07T16:00:00Z',
  ...o,
});

describe('HttpsDoor.offer: what the node reports to the origin for HTTPS', () => {
  const now = Date.parse('2026-01-03T00:00:00Z');
  it('offers its HTTPS base URL while a CA certificate for its address is within its validity, whatever the renewal state', () => {
    expect(door({ certificate: cert({}) }).offer(now)).toBe('https://192.0.2.3:8443');
    expect(door({ state: 'error', error: 'CA down', certificate: cert({}) }).offer(now)).toBe('https://192.0.2.3:8443');
  });
  it('offers nothing with no certificate yet, the self-signed placeholder, or an expired one', () => {
    expect(door({ state: 'issuing' }).offer(now)).toBeUndefined();
    expect(door({ state: 'placeholder', certificate: cert({ selfSigned: true }) }).offer(now)).toBeUndefined();
    expect(door({ state: 'error', certificate: cert({ notAfter: '2026-01-02T00:00:00Z' }) }).offer(now)).toBeUndefined();
  });
  it('routes the HTTPS entry once the app hands its routing in, and back to none', () => {
    const d = door({ certificate: cert({}) });
    expect(d.routing()).toBeUndefined();
    const r = { choose: () => ({ node: 'node-b', hlsBase: 'https://192.0.2.4:8443' }), viewer: () => ({ user: 'viewer', password: '', ha1: '0'.repeat(32) }) };
    d.route(r);
    expect(d.routing()).toBe(r);
    d.route(undefined);
    expect(d.routing()).toBeUndefined();
  });
});
