import { describe, expect, it } from 'vitest';
import { originConfigSchema } from '../config/schema.js';
import { links } from '../api/views.js';
import type { StatusInfo } from '../api/types.js';
import { nodesFromConfig } from './nodes.js';
import { orderEntries, originExposure, originGatewayBind } from './exposure.js';

const nodes = [
  { name: 'nyc', region: 'us-east', rtsp: 'rtsp://198.51.100.9:8554' },
  { name: 'fra', region: 'eu-central', rtsp: 'rtsp://198.51.100.7:8554', hls: 'http://198.51.100.7:8888' },
];

describe('origin exposure', () => {
  it('private: the gateway on loopback and the origin node named by loopback only', () => {
    const c = originConfigSchema.parse({ role: 'origin', exposure: 'private', public: { host: '203.0.113.5' }, nodes });
    expect(originExposure(c)).toBe('private');
    expect(originGatewayBind(c)).toBe('127.0.0.1');
    const [origin] = nodesFromConfig(c);
    expect(origin!.rtspUrl).toBe('rtsp://127.0.0.1:8554');
    expect(JSON.stringify(nodesFromConfig(c))).not.toContain('203.0.113.5');
  });

  it('public (unset, or set): the gateway on public.bind, the origin named by its public host', () => {
    for (const exposure of [undefined, 'public'] as const) {
      const c = originConfigSchema.parse({ role: 'origin', ...(exposure ? { exposure } : {}), public: { host: '203.0.113.5' }, nodes });
      expect(originExposure(c)).toBe('public');
      expect(originGatewayBind(c)).toBe('0.0.0.0');
      expect(nodesFromConfig(c)[0]!.rtspUrl).toBe('rtsp://203.0.113.5:8554');
    }
  });

  it('refuses an unknown exposure with the path', () => {
    const r = originConfigSchema.safeParse({ role: 'origin', exposure: 'open' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['exposure']);
  });

  it('orders entries by region, then name; no region last', () => {
    expect(orderEntries([{ name: 'b' }, { name: 'z', region: 'us-east' }, { name: 'a', region: 'eu-central' }, { name: 'c', region: 'eu-central' }]).map((n) => n.name)).toEqual([
      'a',
      'c',
      'z',
      'b',
    ]);
  });

  it('status links of a private origin: one per entry, by region, never the origin', () => {
    const c = originConfigSchema.parse({ role: 'origin', exposure: 'private', public: { host: '203.0.113.5' }, nodes });
    const info: StatusInfo = {
      name: 'home',
      state: 'running',
      streams: [{ name: 'live', ready: true, readers: 0, bytesIn: 0, bytesOut: 0, tracks: [] }],
      nodes: nodesFromConfig(c).map((node) => ({ node, health: 'up', viewers: 0 })),
      gateway: { rtspUrl: 'rtsp://127.0.0.1:8554' },
      exposure: 'private',
    } as unknown as StatusInfo;
    const l = links(info, 'viewer:pw');
    expect(l.map((x) => x.node)).toEqual(['fra', 'nyc']);
    expect(l[0]!.rtsp).toBe('rtsp://viewer:pw@198.51.100.7:8554/live');
    expect(JSON.stringify(l)).not.toMatch(/203\.0\.113\.5|127\.0\.0\.1/);
  });
});
