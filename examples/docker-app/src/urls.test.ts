import { describe, expect, it } from 'vitest';
import { havenConfigSchema } from '@haven/core';
import { publishHost } from './urls.js';

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
});

describe('buildUrls: Quest URL', () => {
  it('gives an https:// LL-HLS URL on the entry (port 443) next to the rtspt:// PC URL', async () => {
    const { buildUrls } = await import('./urls.js');
    const config = havenConfigSchema.parse({ role: 'origin', public: { host: '203.0.113.7' } });
    const u = buildUrls(config, { streamKey: 'k'.repeat(32), viewerPassword: 'p@ss word', relayPassword: 'r'.repeat(40) }, { rtmpPort: 1935, srtPort: 8890 });
    expect(u.viewer[0]).toMatchObject({
      rtspt: 'rtspt://viewer:p%40ss%20word@203.0.113.7:8554/live',
      quest: 'https://viewer:p%40ss%20word@203.0.113.7/live/index.m3u8',
    });
  });
});
