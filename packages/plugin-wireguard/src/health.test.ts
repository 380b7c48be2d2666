import type { HavenNode, VpnPeerStatus } from '@haven/core';
import { describe, expect, it } from 'vitest';
import { handshakeProbe, handshakeSignal } from './health.js';

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

describe('handshakeProbe', () => {
  const node = (publicKey?: string, origin = false): HavenNode => ({
    name: publicKey ?? 'plain',
    location: { lat: 0, lon: 0 },
    rtspUrl: 'rtsp://192.0.2.1:8554',
    capacity: 0,
    ...(publicKey ? { publicKey } : {}),
    ...(origin ? { origin } : {}),
  });
  const probe = (list = peers) => {
    let calls = 0;
    const p = handshakeProbe({ peers: async () => (calls++, list) }, { cacheMs: 60_000 });
    return { p, calls: () => calls };
  };
  const at = (n: HavenNode) => ({ node: n, stream: 'live' });
  const sig = () => new AbortController().signal;

  it('passes a node with a fresh session, fails stale, missing and unknown ones with the reason', async () => {
    const { p } = probe();
    expect(await p.probe(at(node('fresh')), sig())).toMatchObject({ up: true, ready: true });
    expect(await p.probe(at(node('stale')), sig())).toMatchObject({ up: false, ready: false, reason: 'handshake-stale' });
    expect(await p.probe(at(node('never')), sig())).toMatchObject({ up: false, reason: 'no-handshake' });
    expect(await p.probe(at(node('gone')), sig())).toMatchObject({ up: false, reason: 'unknown-peer' });
  });

  it('does not judge nodes off the VPN or the origin', async () => {
    const { p, calls } = probe();
    expect(await p.probe(at(node()), sig())).toMatchObject({ up: true, ready: true });
    expect(await p.probe(at(node('never', true)), sig())).toMatchObject({ up: true, ready: true });
    expect(calls()).toBe(0);
  });

  it('reads the VPN once for a round of probes, and reports vpn-down instead of throwing', async () => {
    const { p, calls } = probe();
    await Promise.all(['fresh', 'stale', 'never'].map((k) => p.probe(at(node(k)), sig())));
    expect(calls()).toBe(1);
    const broken = handshakeProbe({ peers: async () => { throw new Error('wg failed'); } });
    expect(await broken.probe(at(node('fresh')), sig())).toMatchObject({ up: false, reason: 'vpn-down' });
  });
});
