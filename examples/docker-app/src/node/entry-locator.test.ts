import { describe, expect, it } from 'vitest';
import type { Locator, RoutingState } from '@haven/core';
import { ASK_PER_PREFIX, createEntryLocator } from './entry-locator.js';

const state = (places?: RoutingState['places']): RoutingState =>
  ({ haven: '0123456789abcdef', version: 1, issuedAt: 1, nodes: [], viewer: { user: 'viewer', realm: 'Stream Haven', ha1: '0'.repeat(32) }, players: [], ...(places ? { places } : {}) }) as RoutingState;

describe('createEntryLocator', () => {
  const own: Locator = { name: 'own', capabilities: { ipv6: false, updates: false }, locate: (ip) => (ip === '198.51.100.9' ? { lat: 1, lon: 2, source: 'db' } : undefined) };

  it('places a viewer with the origin\'s overrides first, then the node\'s own locator', () => {
    let s = state([{ cidr: '172.31.2.0/24', region: 'ap-northeast', city: 'place-b' }, { cidr: '10.9.0.0/16', lat: 48.86, lon: 2.35 }]);
    const loc = createEntryLocator({ follower: { state: () => s }, own: () => own });
    expect(loc.locate('172.31.2.2')).toMatchObject({ city: 'place-b', source: 'override' });
    expect(loc.locate('::ffff:10.9.3.4')).toMatchObject({ lat: 48.86, lon: 2.35 });
    expect(loc.locate('198.51.100.9')).toMatchObject({ lat: 1, lon: 2 });
    expect(loc.locate('203.0.113.1')).toBeUndefined();
    expect(loc.locate('not an ip')).toBeUndefined();
    // A new state without places: only the node's own locator.
    s = state();
    expect(loc.locate('172.31.2.2')).toBeUndefined();
  });

  it('a state whose places do not compile keeps the last good table and says so', () => {
    const said: string[] = [];
    let s = state([{ cidr: '172.31.2.0/24', lat: 35.7, lon: 139.7 }]);
    const loc = createEntryLocator({ follower: { state: () => s }, own: () => undefined, onInvalid: (m) => said.push(m) });
    expect(loc.locate('172.31.2.2')).toMatchObject({ lat: 35.7 });
    s = state([{ cidr: '172.31.2.0/24', region: 'no-such-region' }]);
    expect(loc.locate('172.31.2.2')).toMatchObject({ lat: 35.7 });
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/the origin's geo overrides could not be used here .*unknown region "no-such-region".*keeps the ones it had/);
  });

  it('asks the origin when a viewer connects (prepare), once per address while the answer is fresh; failures and unknowns are kept shorter', async () => {
    let t = 0;
    const asked: string[] = [];
    let fail = false;
    const loc = createEntryLocator({
      follower: { state: () => state([{ cidr: '172.31.2.0/24', lat: 35.7, lon: 139.7 }]) },
      own: () => own,
      origin: async (ip) => {
        asked.push(ip);
        if (fail) throw new Error('origin unreachable');
        return ip === '203.0.113.7' ? { lat: 50.1, lon: 8.7, city: 'Frankfurt' } : undefined;
      },
      now: () => t,
    });
    // Placed here already (overrides, own locator) or not an address: the origin is not asked.
    await loc.prepare!('172.31.2.2');
    await loc.prepare!('198.51.100.9');
    await loc.prepare!('not an ip');
    expect(asked).toEqual([]);
    // Not known here: asked once, even by two connections at the same time.
    expect(loc.locate('203.0.113.7')).toBeUndefined();
    await Promise.all([loc.prepare!('203.0.113.7'), loc.prepare!('203.0.113.7')]);
    expect(loc.locate('203.0.113.7')).toMatchObject({ city: 'Frankfurt' });
    await loc.prepare!('203.0.113.7');
    expect(asked).toEqual(['203.0.113.7']);
    // An unknown address, and a failed call, are asked again after five minutes; a known one after an hour.
    await loc.prepare!('203.0.113.8');
    t += 5 * 60_000 + 1;
    fail = true;
    await loc.prepare!('203.0.113.8');
    expect(loc.locate('203.0.113.8')).toBeUndefined();
    await loc.prepare!('203.0.113.7');
    expect(asked).toEqual(['203.0.113.7', '203.0.113.8', '203.0.113.8']);
    expect(loc.locate('203.0.113.7')).toMatchObject({ city: 'Frankfurt' });
    t += 60 * 60_000;
    expect(loc.locate('203.0.113.7')).toBeUndefined();
    fail = false;
    await loc.prepare!('203.0.113.7');
    expect(loc.locate('203.0.113.7')).toMatchObject({ city: 'Frankfurt' });
  });

  it('a sender with a fresh address per connection makes no lookup storm: one question per /64, a few per network per second', async () => {
    let t = 0;
    const asked: string[] = [];
    const loc = createEntryLocator({
      follower: { state: () => undefined },
      own: () => undefined,
      origin: async (ip) => {
        asked.push(ip);
        return { lat: 1, lon: 2 };
      },
      now: () => t,
    });
    // 500 addresses of one /64: asked once, and every one of them is placed by that answer.
    for (let i = 1; i <= 500; i++) await loc.prepare!(`2001:db8:aa:1::${i.toString(16)}`);
    expect(asked).toHaveLength(1);
    expect(loc.locate('2001:db8:aa:1::ffff')).toMatchObject({ lat: 1 });
    // A fresh /64 per connection inside one /48: the network's burst, then its rate.
    for (let i = 2; i <= 500; i++) await loc.prepare!(`2001:db8:aa:${i.toString(16)}::1`);
    expect(asked).toHaveLength(ASK_PER_PREFIX.burst);
    t += 10_000;
    for (let i = 600; i <= 700; i++) await loc.prepare!(`2001:db8:aa:${i.toString(16)}::1`);
    expect(asked).toHaveLength(ASK_PER_PREFIX.burst + 8);
    // Another network is asked about at once.
    await loc.prepare!('203.0.113.50');
    expect(asked.at(-1)).toBe('203.0.113.50');
  });
});
