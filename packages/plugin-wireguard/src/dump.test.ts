import { describe, expect, it } from 'vitest';
import { handshakeAge, parseDump } from './dump.js';

const PRIV = 'UAy/4Tzov/KwIdzSp1EsFcD8IqDSKESiRzqmvONI+0M=';
const PUB = 'Oj6IfEXmM2g3nkivV82Nt8mOolX0uAxZoWc0KnlS9Qc=';
const PEER = 'Fai/GtPYxCA+xehQaOVo/DTSAdP9Kh9oxnwQ36TcRxE=';

describe('parseDump', () => {
  it('parses peers and drops the private key', () => {
    const text = [
      `${PRIV}\t${PUB}\t21001\toff`,
      `${PEER}\t(none)\t192.168.1.2:51820\t10.77.0.2/32\t1700000000\t1234\t5678\t25`,
      `${PUB}\t(none)\t(none)\t(none)\t0\t0\t0\toff`,
      '',
    ].join('\n');
    const dump = parseDump(text);
    expect(JSON.stringify(dump)).not.toContain(PRIV);
    expect(dump).toEqual({
      publicKey: PUB,
      listenPort: 21001,
      peers: [
        { publicKey: PEER, endpoint: '192.168.1.2:51820', allowedIps: ['10.77.0.2/32'], latestHandshake: 1700000000, rxBytes: 1234, txBytes: 5678, persistentKeepalive: 25 },
        { publicKey: PUB, allowedIps: [], latestHandshake: 0, rxBytes: 0, txBytes: 0 },
      ],
    });
  });

  it('computes handshake age', () => {
    expect(handshakeAge(0)).toBeUndefined();
    expect(handshakeAge(1000, 1_010_500)).toBe(10);
    expect(handshakeAge(2000, 1_000_000)).toBe(0);
  });
});
