import { describe, expect, it } from 'vitest';
import { originConfigSchema } from '../config/schema.js';
import { nodesFromConfig } from './nodes.js';
import { exposureChange, exposureReason, orderEntries, originExposure, originGatewayBind } from './exposure.js';

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

  it('public (set, or unset with no node): the gateway on public.bind, the origin named by its public host', () => {
    for (const c of [
      originConfigSchema.parse({ role: 'origin', exposure: 'public', public: { host: '203.0.113.5' }, nodes }),
      originConfigSchema.parse({ role: 'origin', public: { host: '203.0.113.5' } }),
    ]) {
      expect(originExposure(c)).toBe('public');
      expect(originGatewayBind(c)).toBe('0.0.0.0');
      expect(nodesFromConfig(c)[0]!.rtspUrl).toBe('rtsp://203.0.113.5:8554');
    }
  });

  it('unset: public with no node, private from the first node on (and public again with none)', () => {
    const none = originConfigSchema.parse({ role: 'origin', public: { host: '203.0.113.5' } });
    const one = originConfigSchema.parse({ role: 'origin', public: { host: '203.0.113.5' }, nodes: nodes.slice(0, 1) });
    expect([originExposure(none), originExposure(one)]).toEqual(['public', 'private']);
    expect(originGatewayBind(one)).toBe('127.0.0.1');
    expect(JSON.stringify(nodesFromConfig(one))).not.toContain('203.0.113.5');
    expect(exposureReason(none)).toBe('exposure unset and the Haven has no node yet');
    expect(exposureReason(one)).toBe('exposure unset and the Haven has 1 node');
    expect(exposureReason(originConfigSchema.parse({ role: 'origin', exposure: 'public', nodes }))).toBe('exposure: public in the config');
  });

  it('a gateway bound public at start, with the first node added live: says it turns private at the next start', () => {
    const one = originConfigSchema.parse({ role: 'origin', public: { host: '203.0.113.5' }, nodes: nodes.slice(0, 1) });
    const none = originConfigSchema.parse({ role: 'origin', public: { host: '203.0.113.5' } });
    expect(exposureChange('public', none)).toBeUndefined();
    expect(exposureChange('private', one)).toBeUndefined();
    const change = exposureChange('public', one);
    expect(change).toMatch(/private from the next `haven start`/);
    expect(change).toMatch(/still listens on the public address/);
    expect(change).toMatch(/exposure: public/);
    expect(change).not.toContain('203.0.113.5');
    expect(exposureChange('private', none)).toMatch(/public from the next `haven start`/);
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
});
