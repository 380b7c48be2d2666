import { describe, expect, it } from 'vitest';
import { originConfigSchema } from '@haven/core';
import { DIAL_OUT_KEEPALIVE_SEC, dialOutPeer } from './origin-vpn.js';

const KEY = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const nodes = [{ name: 'fra', region: 'eu-central', rtsp: 'rtsp://198.51.100.7:8554', publicKey: KEY }];

describe('dialOutPeer', () => {
  it('private: the node\'s endpoint (its rtsp host, the WireGuard port) and a keepalive', () => {
    const c = originConfigSchema.parse({ role: 'origin', exposure: 'private', nodes });
    expect(dialOutPeer({ publicKey: KEY, name: 'fra', allowedIps: [] }, c, 51820)).toEqual({
      publicKey: KEY,
      name: 'fra',
      allowedIps: [],
      endpoint: '198.51.100.7:51820',
      persistentKeepaliveSec: DIAL_OUT_KEEPALIVE_SEC,
    });
    const withEndpoint = originConfigSchema.parse({ role: 'origin', exposure: 'private', nodes: [{ ...nodes[0], endpoint: '198.51.100.8:4000' }] });
    expect(dialOutPeer({ publicKey: KEY } as { publicKey: string; endpoint?: string }, withEndpoint, 51820).endpoint).toBe('198.51.100.8:4000');
  });

  it('unset exposure with a node is private: the origin dials out', () => {
    const c = originConfigSchema.parse({ role: 'origin', nodes });
    expect(dialOutPeer({ publicKey: KEY, name: 'fra', allowedIps: [] }, c, 51820)).toMatchObject({ endpoint: '198.51.100.7:51820', persistentKeepaliveSec: DIAL_OUT_KEEPALIVE_SEC });
  });

  it('public: peers untouched (nodes dial the origin)', () => {
    const c = originConfigSchema.parse({ role: 'origin', exposure: 'public', nodes });
    const peer = { publicKey: KEY, name: 'fra', allowedIps: [] };
    expect(dialOutPeer(peer, c, 51820)).toBe(peer);
  });
});
