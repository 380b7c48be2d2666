import type { VpnPeerStatus } from '@haven/core';
import { describe, expect, it } from 'vitest';
import { handshakeSignal } from './health.js';

const peers: VpnPeerStatus[] = [
  { publicKey: 'fresh', allowedIps: [], lastHandshakeAgeSec: 12, rxBytes: 10, txBytes: 20 },
  { publicKey: 'stale', allowedIps: [], lastHandshakeAgeSec: 600, rxBytes: 0, txBytes: 0 },
  { publicKey: 'never', allowedIps: [], rxBytes: 0, txBytes: 0 },
];

describe('handshakeSignal', () => {
  it('classifies peers by handshake age', async () => {
    const signal = handshakeSignal({ peers: async () => peers });
    expect(await signal('fresh')).toEqual({ publicKey: 'fresh', up: true, ageSec: 12, rxBytes: 10, txBytes: 20 });
    expect(await signal('stale')).toMatchObject({ up: false, ageSec: 600, reason: 'handshake-stale' });
    expect(await signal('never')).toMatchObject({ up: false, reason: 'no-handshake' });
    expect(await signal('other')).toMatchObject({ up: false, reason: 'unknown-peer' });
    expect((await signal.all()).size).toBe(3);
    expect(await handshakeSignal({ peers: async () => peers }, { maxAgeSec: 10 })('fresh')).toMatchObject({ up: false });
  });

  it('reports vpn-down instead of throwing', async () => {
    const signal = handshakeSignal({
      peers: async () => {
        throw new Error('wg failed');
      },
    });
    expect(await signal('x')).toMatchObject({ up: false, reason: 'vpn-down' });
  });
});
