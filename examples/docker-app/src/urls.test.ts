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
