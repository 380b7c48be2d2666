import { describe, expect, it } from 'vitest';
import { generateKeyPair } from './keys.js';
import { parseEndpoint, renderNodeConfig, renderOriginConfig, renderWgQuick } from './render.js';

const origin = generateKeyPair();
const n1 = generateKeyPair();
const n2 = generateKeyPair();

describe('wg-quick rendering', () => {
  it('renders the origin: one [Peer] per node, AllowedIPs its /32 only', () => {
    const text = renderOriginConfig({
      privateKey: origin.privateKey,
      address: '10.77.0.1',
      prefix: 24,
      listenPort: 51820,
      mtu: 1420,
      nodes: [
        { name: 'alice', publicKey: n1.publicKey, address: '10.77.0.23' },
        { name: 'bob', publicKey: n2.publicKey, address: '10.77.0.42' },
      ],
    });
    expect(text).toBe(
      [
        '[Interface]',
        `PrivateKey = ${origin.privateKey}`,
        'Address = 10.77.0.1/24',
        'ListenPort = 51820',
        'MTU = 1420',
        '',
        '# node alice',
        '[Peer]',
        `PublicKey = ${n1.publicKey}`,
        'AllowedIPs = 10.77.0.23/32',
        '',
        '# node bob',
        '[Peer]',
        `PublicKey = ${n2.publicKey}`,
        'AllowedIPs = 10.77.0.42/32',
        '',
      ].join('\n'),
    );
    expect(text.match(/\[Peer\]/g)).toHaveLength(2);
    expect(text).not.toMatch(/AllowedIPs = 10\.77\.0\.0\/24/);
  });

  it('renders a node: its /32, the origin /32 as AllowedIPs, Endpoint and PersistentKeepalive', () => {
    const text = renderNodeConfig({
      privateKey: n1.privateKey,
      address: '10.77.0.23',
      mtu: 1420,
      origin: { publicKey: origin.publicKey, endpoint: '198.51.100.7:51820', address: '10.77.0.1' },
    });
    expect(text).toBe(
      [
        '[Interface]',
        `PrivateKey = ${n1.privateKey}`,
        'Address = 10.77.0.23/32',
        'MTU = 1420',
        '',
        '# origin',
        '[Peer]',
        `PublicKey = ${origin.publicKey}`,
        'AllowedIPs = 10.77.0.1/32',
        'Endpoint = 198.51.100.7:51820',
        'PersistentKeepalive = 25',
        '',
      ].join('\n'),
    );
  });

  it('keeps names on one comment line and refuses line breaks in values', () => {
    const text = renderWgQuick({ privateKey: origin.privateKey, address: ['10.77.0.1/24'] }, [
      { publicKey: n1.publicKey, allowedIps: ['10.77.0.2/32'], name: 'evil\n[Peer]\nPublicKey = x' },
    ]);
    expect(text.match(/^\[Peer\]/gm)).toHaveLength(1);
    expect(text.split('\n').filter((l) => l.startsWith('#'))).toHaveLength(1);
    expect(() => renderWgQuick({ privateKey: 'a\nb', address: [] }, [])).toThrow(/line break/);
  });

  it('checks endpoints', () => {
    expect(parseEndpoint(' 203.0.113.5:51820 ')).toBe('203.0.113.5:51820');
    expect(parseEndpoint('vpn.example.org:1')).toBe('vpn.example.org:1');
    expect(parseEndpoint('[2001:db8::1]:51820')).toBe('[2001:db8::1]:51820');
    for (const bad of ['203.0.113.5', '203.0.113.5:0', '203.0.113.5:70000', 'a b:1', 'host:1\nEndpoint = x:2']) {
      expect(() => parseEndpoint(bad, 'origin endpoint')).toThrow(/origin endpoint: expected host:port/);
    }
  });
});
