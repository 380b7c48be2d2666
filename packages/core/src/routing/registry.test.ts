import { describe, expect, it } from 'vitest';
import { originConfigSchema } from '../config/schema.js';
import type { HavenNode } from '../contracts.js';
import { HavenEmitter } from '../events.js';
import { nodesFromConfig } from './nodes.js';
import { NodeRegistry } from './registry.js';

const n = (name: string, extra: Partial<HavenNode> = {}): HavenNode => ({ name, location: { lat: 1, lon: 2 }, rtspUrl: `rtsp://${name}:8554`, capacity: 0, ...extra });

describe('NodeRegistry', () => {
  it('adds and removes nodes with events, and refuses duplicates', () => {
    const events = new HavenEmitter();
    const seen: string[] = [];
    events.on('node:added', ({ node }) => seen.push(`+${node.name}`));
    events.on('node:removed', ({ name }) => seen.push(`-${name}`));
    const r = new NodeRegistry([n('origin', { origin: true })], events);
    r.add(n('a'));
    expect(() => r.add(n('a'))).toThrow(/already registered/);
    expect(() => r.add(n('o2', { origin: true }))).toThrow(/second origin/);
    expect(r.remove('a')).toBe(true);
    expect(r.remove('a')).toBe(false);
    expect(seen).toEqual(['+a', '-a']);
    expect(r.origin()?.name).toBe('origin');
  });

  it('replace() diffs by name', () => {
    const r = new NodeRegistry([n('origin', { origin: true }), n('a'), n('b')]);
    const v = r.version;
    const change = r.replace([n('origin', { origin: true }), n('b', { capacity: 5 }), n('c')]);
    expect(change).toEqual({ added: ['c'], removed: ['a'], changed: ['b'] });
    expect(r.get('b')?.capacity).toBe(5);
    expect(r.version).toBeGreaterThan(v);
    expect(r.replace(r.list())).toEqual({ added: [], removed: [], changed: [] });
  });

  it('builds nodes from an origin config (origin first, regions resolved)', () => {
    const config = originConfigSchema.parse({
      role: 'origin',
      name: 'home',
      exposure: 'public', // with nodes, unset would be private (the origin named by loopback)
      region: 'us-east',
      public: { host: '203.0.113.5', rtspPort: 8554, hlsPort: 8888 },
      nodes: [{ name: 'fra', region: 'eu-central', rtsp: 'rtsp://198.51.100.7:8554/', hls: 'http://198.51.100.7:8888', capacity: 50 }],
    });
    const [origin, fra] = nodesFromConfig(config);
    expect(origin).toMatchObject({ name: 'home', origin: true, rtspUrl: 'rtsp://203.0.113.5:8554', hlsUrl: 'http://203.0.113.5:8888' });
    expect(fra).toMatchObject({ name: 'fra', rtspUrl: 'rtsp://198.51.100.7:8554', capacity: 50, location: { lat: 50.11, lon: 8.68 } });
  });
});
