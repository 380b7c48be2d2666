import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mediamtxOptionsSchema } from './options.js';
import { resolveListeners } from './plugin.js';
import { relaySourceUrl, renderConfig, toYaml, type RenderInput } from './render.js';

const base = (over: Partial<RenderInput> = {}): RenderInput => ({
  role: 'origin',
  streams: [{ name: 'live' }, { name: 'second' }],
  options: mediamtxOptionsSchema.parse({}),
  rtspAddress: '127.0.0.1:8654',
  hlsAddress: '127.0.0.1:8655',
  rtmpAddress: '127.0.0.1:1935',
  srtAddress: '127.0.0.1:8890',
  trustedProxies: ['127.0.0.1/32'],
  authUrl: 'http://127.0.0.1:40000/auth/token',
  ...over,
});

describe('renderConfig', () => {
  it('origin: http auth hook, loopback API, RTMP+SRT ingest, TCP-only RTSP behind the gateway, nothing else', () => {
    const c = renderConfig(base());
    expect(c).toMatchObject({
      authMethod: 'http',
      authHTTPAddress: 'http://127.0.0.1:40000/auth/token',
      authHTTPExclude: [],
      api: true,
      apiAllowOrigins: [],
      metricsAllowOrigins: [],
      apiAddress: '127.0.0.1:9997',
      metrics: false,
      metricsAddress: '127.0.0.1:9998',
      rtsp: true,
      rtspAddress: '127.0.0.1:8654',
      rtspTransports: ['tcp'],
      rtspTrustedProxies: ['127.0.0.1/32'],
      rtspAuthMethods: ['basic'],
      rtmp: true,
      rtmpAddress: '127.0.0.1:1935',
      srt: true,
      srtAddress: '127.0.0.1:8890',
      hls: true,
      hlsAddress: '127.0.0.1:8655',
      hlsTrustedProxies: ['127.0.0.1/32'],
      hlsAlwaysRemux: true,
      webrtc: false,
      moq: false,
      pprof: false,
      playback: false,
      paths: { live: { source: 'publisher' }, second: { source: 'publisher' } },
    });
    expect(c).not.toHaveProperty('authInternalUsers');
  });

  it('HLS trusts the proxies given for it, else the RTSP ones; remuxing can be turned off', () => {
    const options = mediamtxOptionsSchema.parse({ hlsTrustedProxies: ['203.0.113.1/32', '10.77.0.1/32'], overrides: { global: { hlsAlwaysRemux: false } } });
    const c = renderConfig(base({ options }));
    expect(c.hlsTrustedProxies).toEqual(['203.0.113.1/32', '10.77.0.1/32']);
    expect(c.rtspTrustedProxies).toEqual(['127.0.0.1/32']);
    expect(c.hlsAlwaysRemux).toBe(false);
  });

  it('HTTPS HLS gets 100 ms LL-HLS parts, 1 s segments, 7 of them; overrides still win; plain HLS keeps MediaMTX defaults', () => {
    const tls = renderConfig(base({ tlsFile: '/state/tls/node.pem' }));
    expect(tls).toMatchObject({ hlsEncryption: true, hlsVariant: 'lowLatency', hlsPartDuration: '100ms', hlsSegmentDuration: '1s', hlsSegmentCount: 7 });
    const options = mediamtxOptionsSchema.parse({ overrides: { global: { hlsPartDuration: '200ms', hlsSegmentCount: 9 } } });
    expect(renderConfig(base({ tlsFile: '/state/tls/node.pem', options }))).toMatchObject({ hlsPartDuration: '200ms', hlsSegmentCount: 9 });
    expect(renderConfig(base())).not.toHaveProperty('hlsPartDuration');
  });

  it('node: pulls each stream from the origin relay over TCP, always on; no ingest', () => {
    const options = mediamtxOptionsSchema.parse({ originRelay: { host: '10.77.0.1' } });
    const c = renderConfig(base({ role: 'node', options, relayPassword: 'RelayRelayRelay1', streams: [{ name: 'live' }], hlsAddress: undefined }));
    expect(c).toMatchObject({
      rtmp: false,
      srt: false,
      hls: false,
      paths: { live: { source: 'rtsp://relay:RelayRelayRelay1@10.77.0.1:8654/live', rtspTransport: 'tcp', sourceOnDemand: false } },
    });
    expect(c).not.toHaveProperty('rtmpAddress');
    expect(() => renderConfig(base({ role: 'node', options }))).toThrow(/relay password/);
  });

  it('applies safe overrides to globals and every path', () => {
    const options = mediamtxOptionsSchema.parse({ overrides: { global: { writeQueueSize: 1024 }, path: { maxReaders: 50 } } });
    const c = renderConfig(base({ options }));
    expect(c.writeQueueSize).toBe(1024);
    expect(c.paths).toEqual({ live: { source: 'publisher', maxReaders: 50 }, second: { source: 'publisher', maxReaders: 50 } });
  });

  it('YAML output keeps strings that YAML 1.1 would read as booleans quoted', () => {
    const text = toYaml(renderConfig(base()));
    expect(text).toMatch(/^rtspEncryption: "no"$/m);
    expect(parse(text, { version: '1.1' })).toEqual(renderConfig(base()));
  });

  it('relay URLs bracket IPv6 hosts', () => {
    expect(relaySourceUrl('fd00::1', 8654, 'live', 'p')).toBe('rtsp://relay:p@[fd00::1]:8654/live');
  });
});

describe('resolveListeners', () => {
  const pub = { bind: '0.0.0.0', rtspPort: 8554, hlsPort: 8888 };
  it('origin without a VPN: RTSP, HLS and ingest on loopback only', () => {
    const r = resolveListeners('origin', mediamtxOptionsSchema.parse({}), pub, undefined);
    expect(r).toEqual({ rtspAddress: '127.0.0.1:8654', hlsAddress: '127.0.0.1:8655', rtmpAddress: '127.0.0.1:1935', srtAddress: '127.0.0.1:8890', trustedProxies: ['127.0.0.1/32'] });
  });
  it('origin with a VPN: RTSP still on loopback (nodes come through the relay door with a PROXY header); HLS on loopback', () => {
    const r = resolveListeners('origin', mediamtxOptionsSchema.parse({}), pub, '10.77.0.1');
    expect(r.rtspAddress).toBe('127.0.0.1:8654');
    expect(r.hlsAddress).toBe('127.0.0.1:8655');
    expect(r.trustedProxies).toEqual(['127.0.0.1/32']);
    // Set by hand on the VPN address, MediaMTX trusts itself as a PROXY sender there too.
    expect(resolveListeners('origin', mediamtxOptionsSchema.parse({ rtspAddress: '10.77.0.1:8654' }), pub, '10.77.0.1').trustedProxies).toEqual(['127.0.0.1/32', '10.77.0.1/32']);
  });
  it('ingest on the LAN only when asked; explicit addresses win', () => {
    const r = resolveListeners('origin', mediamtxOptionsSchema.parse({ ingest: 'lan', srtAddress: '127.0.0.1:9000' }), pub, undefined);
    expect(r.rtmpAddress).toBe(':1935');
    expect(r.srtAddress).toBe('127.0.0.1:9000');
  });
  it('node: RTSP on loopback behind the entry gateway (which owns the public port), HLS public for now', () => {
    const r = resolveListeners('node', mediamtxOptionsSchema.parse({ originRelay: { host: '10.77.0.1' } }), pub, '10.77.0.2');
    expect(r.rtspAddress).toBe('127.0.0.1:8654');
    expect(r.trustedProxies).toEqual(['127.0.0.1/32']);
    expect(r.hlsAddress).toBe('0.0.0.0:8888');
  });
});
