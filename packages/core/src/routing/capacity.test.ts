import { describe, expect, it } from 'vitest';
import type { HavenNode } from '../contracts.js';
import { healthSchemaDefaults } from './defaults.js';
import { HealthMonitor } from './health.js';
import { NodeRegistry } from './registry.js';

const node = (name: string, capacity: number): HavenNode => ({ name, location: { lat: 0, lon: 0 }, rtspUrl: `rtsp://${name}:8554`, capacity });

function setup() {
  let now = 1_000_000;
  const registry = new NodeRegistry([node('a', 2)]);
  const health = new HealthMonitor({
    registry,
    probes: () => [],
    streams: () => ['live'],
    config: healthSchemaDefaults(),
    now: () => now,
    reportTtlMs: 30_000,
    loadWindowMs: 60_000,
  });
  return { health, a: registry.get('a') as HavenNode, tick: (ms: number) => (now += ms) };
}

describe('node load from its own reports', () => {
  it('is the readers the node reported, plus viewers routed since that report', () => {
    const { health, a, tick } = setup();
    health.noteRouted(a);
    health.noteRouted(a);
    expect(health.load(a)).toBe(2); // no report yet: recent routes
    tick(1000);
    health.reportReaders('a', 0); // both left (or never came)
    expect(health.load(a)).toBe(0);
    tick(1000);
    health.noteRouted(a);
    expect(health.load(a)).toBe(1);
    tick(1000);
    health.reportReaders('a', 5);
    expect(health.load(a)).toBe(5);
  });

  it('a report older than its lifetime no longer counts', () => {
    const { health, a, tick } = setup();
    health.reportReaders('a', 7);
    tick(31_000);
    expect(health.load(a)).toBe(0);
  });
});
