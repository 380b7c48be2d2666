import { describe, expect, it } from 'vitest';
import type { ViewerRoutedEvent } from '@haven/core';
import { DecisionLog, playerOf } from './decisions.js';

const ev = (over: Partial<ViewerRoutedEvent> = {}): ViewerRoutedEvent => ({
  ip: '198.51.100.1',
  stream: 'live',
  node: 'n1',
  mode: 'redirect',
  reason: 'nearest',
  decisionMs: 1,
  ...over,
});

describe('DecisionLog', () => {
  it('keeps the newest decisions without the IP, newest first, bounded', () => {
    const log = new DecisionLog(3);
    for (let i = 0; i < 5; i++) log.add(ev({ node: `n${i}`, decisionMs: i }));
    const recent = log.recent(10);
    expect(recent.map((d) => d.node)).toEqual(['n4', 'n3', 'n2']);
    expect(JSON.stringify(recent)).not.toContain('198.51.100.1');
    expect(log.summary().total).toBe(5);
    expect(log.summary().decisionMs).toEqual({ p50: 3, p95: 4, max: 4 });
  });

  it('places viewers by the locator, rounded, falling back to the country, within the window', () => {
    let now = 1_000_000;
    const log = new DecisionLog(100, () => now);
    log.add(ev({ ip: '198.51.100.1' }), { lat: 40.71277, lon: -74.00597, country: 'US', city: 'New York' });
    log.add(ev({ ip: '198.51.100.2', node: 'n2' }), { lat: 40.71277, lon: -74.00597, country: 'US', city: 'New York' });
    log.add(ev({ ip: '198.51.100.3', country: 'ZZ' }));
    now += 120_000;
    log.add(ev({ ip: '198.51.100.4', country: 'JP', city: 'Tokyo' }), { lat: 35.6895, lon: 139.6917 });
    const all = log.viewers(3600);
    expect(all.total).toBe(4);
    expect(all.places[0]).toEqual({ country: 'US', city: 'New York', lat: 40.7, lon: -74, viewers: 2, nodes: { n1: 1, n2: 1 } });
    expect(all.places).toContainEqual({ country: 'ZZ', viewers: 1, nodes: { n1: 1 } });
    const recent = log.viewers(60);
    expect(recent.places).toEqual([{ country: 'JP', city: 'Tokyo', lat: 35.7, lon: 139.7, viewers: 1, nodes: { n1: 1 } }]);
  });

  it("a player's retries (a new connection every 5-15 s from one address) count as one viewer", () => {
    let now = 1_000_000;
    const log = new DecisionLog(500, () => now);
    for (let i = 0; i < 100; i++) {
      now += 5_000 + (i % 3) * 5_000;
      log.add(ev({ ip: '203.0.113.50', node: i % 2 ? 'n1' : 'n2' }), { lat: 1, lon: 2, country: 'US' });
    }
    log.add(ev({ ip: '203.0.113.51' }), { lat: 1, lon: 2, country: 'US' });
    const v = log.viewers(3600);
    expect(v.total).toBe(2);
    expect(v.places).toEqual([{ country: 'US', lat: 1, lon: 2, viewers: 2, nodes: { n1: 2 } }]);
    expect(log.summary().total).toBe(101);
  });

  it('bounds the number of distinct keys in the totals', () => {
    const log = new DecisionLog(10);
    for (let i = 0; i < 600; i++) log.add(ev({ country: `C${i}` }));
    const byCountry = log.summary().byCountry;
    expect(Object.keys(byCountry).length).toBeLessThanOrEqual(501);
    expect(byCountry.other).toBe(100);
  });
});

describe('playerOf', () => {
  it('takes the product token of a User-Agent', () => {
    expect(playerOf('Lavf/60.16.100')).toBe('Lavf');
    expect(playerOf('LibVLC/3.0.20 (LIVE555 Streaming Media v2016.11.28)')).toBe('LibVLC');
    expect(playerOf('<script>/1')).toBe('script');
    expect(playerOf('')).toBeUndefined();
    expect(playerOf(undefined)).toBeUndefined();
  });
});
