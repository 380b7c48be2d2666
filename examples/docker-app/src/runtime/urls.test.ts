import { describe, expect, it } from 'vitest';
import { havenConfigSchema } from '@haven/core';
import { buildUrls, publishHost } from './urls.js';

describe('publishHost', () => {
  const config = havenConfigSchema.parse({ role: 'origin', public: { host: '203.0.113.7' } });
  it('names loopback while ingest is on loopback (the default): OBS on this machine', () => {
    expect(publishHost(config, {})).toBe('127.0.0.1');
    expect(publishHost(config, { ingest: 'loopback' })).toBe('127.0.0.1');
  });
  it('names the public address with ingest: lan or a wildcard listener; an explicit address as it is', () => {
    expect(publishHost(config, { ingest: 'lan' })).toBe('203.0.113.7');
    expect(publishHost(config, { rtmpAddress: ':1935' })).toBe('203.0.113.7');
    expect(publishHost(config, { rtmpAddress: '192.168.1.20:1935' })).toBe('192.168.1.20');
    expect(publishHost(config, { rtmpAddress: '127.0.0.1:2000', ingest: 'lan' })).toBe('127.0.0.1');
  });
  it('a private origin (a node, exposure unset) names its LAN address with ingest: lan, never the public one', () => {
    const node = { name: 'fra', region: 'eu-central', rtsp: 'rtsp://198.51.100.7:8554' };
    const lan = () => '192.168.0.23';
    for (const priv of [
      havenConfigSchema.parse({ role: 'origin', public: { host: '203.0.113.7' }, nodes: [node] }),
      havenConfigSchema.parse({ role: 'origin', exposure: 'private', public: { host: '203.0.113.7' } }),
    ]) {
      expect(publishHost(priv, { ingest: 'lan' }, lan)).toBe('192.168.0.23');
      expect(publishHost(priv, { rtmpAddress: ':1935' }, lan)).toBe('192.168.0.23');
      expect(publishHost(priv, { rtmpAddress: '[::]:1935' }, lan)).toBe('192.168.0.23');
      // An explicit address is named as it is; no LAN address found: loopback (OBS on this machine).
      expect(publishHost(priv, { rtmpAddress: '192.168.1.20:1935', ingest: 'lan' }, lan)).toBe('192.168.1.20');
      expect(publishHost(priv, { ingest: 'lan' }, () => undefined)).toBe('127.0.0.1');
      expect(publishHost(priv, {}, lan)).toBe('127.0.0.1');
      const u = buildUrls(priv, { streamKey: 'k'.repeat(32), viewerPassword: 'p'.repeat(24), relayPassword: 'r'.repeat(40) }, { rtmpPort: 1935, srtPort: 8890, host: publishHost(priv, { ingest: 'lan' }, lan) });
      expect(u.publish[0]!.obsServer).toBe('rtmp://192.168.0.23:1935');
      expect(JSON.stringify(u)).not.toContain('203.0.113.7');
    }
    // A public origin keeps naming public.host.
    const pub = havenConfigSchema.parse({ role: 'origin', exposure: 'public', public: { host: '203.0.113.7' }, nodes: [node] });
    expect(publishHost(pub, { ingest: 'lan' }, lan)).toBe('203.0.113.7');
  });
});

describe('buildUrls: Quest URL', () => {
  it('a public origin gives no Quest URL: it never has a certificate; entries do (below)', async () => {
    const { buildUrls } = await import('./urls.js');
    const config = havenConfigSchema.parse({ role: 'origin', public: { host: '203.0.113.7' } });
    const u = buildUrls(config, { streamKey: 'k'.repeat(32), viewerPassword: 'p@ss word', relayPassword: 'r'.repeat(40) }, { rtmpPort: 1935, srtPort: 8890 });
    expect(u.viewer[0]).toMatchObject({ rtspt: 'rtspt://viewer:p%40ss%20word@203.0.113.7:8554/live' });
    expect(u.viewer[0]!.quest).toBeUndefined();
  });
});


describe('buildUrls on a private origin', () => {
  const secrets = { streamKey: 'k', viewerPassword: 'pw', relayPassword: 'r' };
  /** A private origin with two entries: fra with HLS, nyc with HLS when told. */
  const privateOrigin = (o: { nycHls: boolean }) =>
    havenConfigSchema.parse({
      role: 'origin',
      exposure: 'private',
      public: { host: '203.0.113.7' },
      nodes: [
        { name: 'nyc', region: 'us-east', rtsp: 'rtsp://198.51.100.9:8554', ...(o.nycHls ? { hls: 'http://198.51.100.9:8888' } : {}) },
        { name: 'fra', region: 'eu-central', rtsp: 'rtsp://198.51.100.7:8554', hls: 'http://198.51.100.7:8888' },
      ],
    });
  it('viewer URLs name the entry nodes only, by region, and say which to paste into a VRChat world', () => {
    const config = privateOrigin({ nycHls: false });
    const u = buildUrls(config, secrets, { rtmpPort: 1935, srtPort: 8890, host: '127.0.0.1' });
    expect(u.viewer.map((v) => v.entry)).toEqual(['fra', 'nyc']);
    expect(u.viewer[0]!.rtspt).toBe('rtspt://viewer:pw@198.51.100.7:8554/live');
    // Quest: HTTPS LL-HLS on the entry's port 443, next to the rtspt:// PC URL.
    expect(u.viewer[0]!.quest).toBe('https://viewer:pw@198.51.100.7/live/index.m3u8');
    expect(JSON.stringify(u)).not.toContain('203.0.113.7');
    expect(u.vrchat).toMatch(/entry in the world's region/);
  });

  it('with the running origin\'s word on HTTPS: a certified entry gets its HTTPS HLS and a Quest URL, the others neither', () => {
    const config = privateOrigin({ nycHls: true });
    const u = buildUrls(config, secrets, { rtmpPort: 1935, srtPort: 8890, host: '127.0.0.1' }, new Map([['fra', 'https://198.51.100.7:8888']]));
    expect(u.viewer.find((v) => v.entry === 'fra')).toMatchObject({ hls: 'https://viewer:pw@198.51.100.7:8888/live/index.m3u8', quest: 'https://viewer:pw@198.51.100.7/live/index.m3u8' });
    const nyc = u.viewer.find((v) => v.entry === 'nyc')!;
    expect(nyc.hls).toBe('http://viewer:pw@198.51.100.9:8888/live/index.m3u8');
    expect(nyc.quest).toBeUndefined();
  });
});
