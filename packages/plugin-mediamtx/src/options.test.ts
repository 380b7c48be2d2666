import { describe, expect, it } from 'vitest';
import { pluginContract, type PluginFixture } from '@haven/core/testing';
import { isHavenError } from '@haven/core';
import { mediamtx, resolveBinary } from './plugin.js';
import { mediamtxOptionsSchema, parseOptions } from './options.js';

pluginContract('mediamtx', () => ({
  // The testing entry's .d.ts carries its own copy of HavenPlugin, so the precise type needs a cast.
  plugin: mediamtx() as unknown as PluginFixture['plugin'],
  valid: { relaySubnets: ['10.77.0.0/24'], rtspAddress: ':8654', originRelay: { host: '10.77.0.1' } },
  invalid: [
    { options: { relaySubnets: ['10.77.0.0/33'] }, path: 'relaySubnets.0' },
    { options: { apiAddress: ':9997' }, path: 'apiAddress' },
    { options: { rtspAddress: 'nope' }, path: 'rtspAddress' },
    { options: { rtspTransports: [] }, path: 'rtspTransports' },
    { options: { overrides: { global: { writeQueueSize: 100 } } }, path: 'overrides.global.writeQueueSize' },
    { options: { overrides: { global: { authMethod: 'internal' } } }, path: 'overrides.global' },
  ],
}));

describe('options', () => {
  it('has documented defaults', () => {
    const o = mediamtxOptionsSchema.parse({});
    expect(o).toMatchObject({
      ingest: 'loopback',
      apiAddress: '127.0.0.1:9997',
      rtspTransports: ['tcp'],
      relaySubnets: ['10.77.0.0/24'],
      publishAnyUser: true,
      publishProtocols: ['rtmp', 'srt'],
      readProtocols: ['rtsp', 'hls'],
      hls: true,
      metrics: false,
      overrides: { global: {}, path: {} },
    });
    expect(o.rtspAddress).toBeUndefined();
    // Resolved per role and VPN by resolveListeners (loopback ingest, loopback/VPN RTSP).
    expect(o.rtmpAddress).toBeUndefined();
    expect(o.trustedProxies).toBeUndefined();
  });

  it('the factory checks code options once, naming the plugin and the option', () => {
    let err: unknown;
    try {
      mediamtx({ relaySubnets: ['not-a-subnet'] });
    } catch (e) {
      err = e;
    }
    expect(isHavenError(err, 'OPTIONS_INVALID')).toBe(true);
    expect(String((err as Error).message)).toBe('[haven/mediamtx] relaySubnets[0]: expected a subnet such as 10.77.0.0/24, got "not-a-subnet"');
    expect(() => parseOptions({ metricsAddress: '0.0.0.0:9998' })).toThrow(/metricsAddress: expected a loopback address/);
    expect(() => parseOptions({ typo: 1 })).toThrow(/unknown option\(s\) "typo"/);
  });

  it('resolves the binary: option, then MEDIAMTX_BIN, then PATH', () => {
    expect(resolveBinary('/opt/mtx', { MEDIAMTX_BIN: '/env/mtx' })).toBe('/opt/mtx');
    expect(resolveBinary(undefined, { MEDIAMTX_BIN: '/env/mtx' })).toBe('/env/mtx');
    expect(resolveBinary(undefined, { PATH: '/nonexistent' })).toBe('mediamtx');
  });
});
