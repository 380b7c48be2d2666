import { describe, expect, it } from 'vitest';
import type { JoinState } from './join-state.js';
import { crossPluginSettings } from './derived.js';
import { selectPlugins } from './plugins.js';

const join: JoinState = {
  version: 1,
  origin: { endpoint: '203.0.113.1:51820', publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=', address: '10.77.0.1' },
  node: { name: 'alice', address: '10.77.0.2' },
  subnet: '10.77.0.0/24',
  relay: { host: '10.77.0.1', port: 8654, user: 'relay' },
  viewerUser: 'viewer',
  streams: ['live'],
  reportUrl: 'http://10.77.0.1:8881',
};

const names = (c: Parameters<typeof selectPlugins>[0]) => selectPlugins(c).map((p) => p.name);

describe('selectPlugins', () => {
  it('an origin always has the VPN first (up once it has a node), then MediaMTX and GeoIP', () => {
    expect(names({ role: 'origin', sections: ['mediamtx', 'geo'], hasNodes: false })).toEqual(['wireguard', 'mediamtx', 'geo']);
    expect(names({ role: 'origin', sections: [], hasNodes: true })).toEqual(['wireguard', 'mediamtx', 'geo']);
    expect(names({ role: 'origin', sections: ['wireguard'], hasNodes: false })).toEqual(['wireguard', 'mediamtx', 'geo']);
  });

  it('the CSV locator replaces GeoIP when configured', () => {
    expect(names({ role: 'origin', sections: ['csv-locator'], hasNodes: false })).toEqual(['wireguard', 'mediamtx', 'csv-locator']);
  });

  it("the origin's MediaMTX accepts the relay credential from the VPN subnet the config derives", () => {
    const settings = crossPluginSettings({ publicHost: '203.0.113.1', wireguard: { subnet: '10.99.0.0/16' } });
    const mtx = selectPlugins({ role: 'origin', sections: ['wireguard'], hasNodes: false, settings }).find((p) => p.name === 'mediamtx')!;
    expect((mtx.options as { relaySubnets: string[] }).relaySubnets).toEqual(['10.99.0.0/16']);
  });

  it('a joined node: VPN to the origin, MediaMTX pulling over it, trusting X-Forwarded-For from the origin\'s VPN address only', () => {
    const plugins = selectPlugins({ role: 'node', sections: [], hasNodes: false, join });
    expect(plugins.map((p) => p.name)).toEqual(['wireguard', 'mediamtx']);
    const mtx = plugins[1]!.options as { originRelay: unknown; hlsTrustedProxies: string[] };
    expect(mtx.originRelay).toEqual({ host: '10.77.0.1', port: 8654 });
    // The origin's VPN address only: its public one (203.0.113.1 here) may be shared (CGNAT).
    expect(mtx.hlsTrustedProxies).toEqual(['10.77.0.1/32']);
  });
});
