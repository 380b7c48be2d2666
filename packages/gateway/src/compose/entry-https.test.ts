import { describe, expect, it } from 'vitest';
import { createHttpsUrlBook, digestHa1, type Locator, type RoutingState, type ViewerLocation } from '@haven/core';

type RoutingStateNode = RoutingState['nodes'][number];
import { entryOnClock, HAVEN, VIEWER } from './entry.fixture.js';

const PLACES: Record<string, ViewerLocation> = {
  '198.51.100.10': { lat: 48.85, lon: 2.3 }, // Paris
  '198.51.100.20': { lat: 35.68, lon: 139.69 }, // Tokyo
  '198.51.100.30': { lat: 50.1, lon: 8.7 }, // Frankfurt
};
const locator: Locator = { name: 'table', capabilities: { ipv6: false, updates: false }, locate: (ip) => PLACES[ip] };

function node(name: string, lat: number, lon: number, extra: Partial<RoutingStateNode> = {}): RoutingStateNode {
  return { name, location: { lat, lon }, rtspUrl: `rtsp://${name}.example:8554`, healthy: true, capacity: 10, load: 0, entry: true, ...extra };
}

function state(version: number, tyo: Partial<RoutingStateNode> = {}): RoutingState {
  return {
    haven: HAVEN,
    version,
    issuedAt: version,
    nodes: [
      node('par', 48.86, 2.35, { httpsUrl: 'https://192.0.2.1:8443' }),
      // fra has no certificate: it is never chosen for HTTPS.
      node('fra', 50.11, 8.68),
      node('tyo', 35.69, 139.7, { httpsUrl: 'https://192.0.2.3:8443', ...tyo }),
    ],
    viewer: VIEWER,
    players: [],
  };
}

function setup(selfHttps: string | undefined) {
  return entryOnClock({ selfHttps: () => selfHttps, locator: () => locator });
}

describe('createEntryRouting: the HTTPS door chooses among the nodes that serve HTTPS', () => {
  it('sends a viewer to the nearest healthy node with HTTPS and room; itself when best or when nothing nearer has HTTPS', () => {
    const { e, follower } = setup('https://192.0.2.1:8443');
    expect(follower.accept(state(1))).toMatchObject({ ok: true });
    expect(e.chooseHttps('198.51.100.20', 'live')).toEqual({ node: 'tyo', hlsBase: 'https://192.0.2.3:8443' });
    expect(e.chooseHttps('198.51.100.10', 'live')).toEqual({ node: 'par', hlsBase: 'https://192.0.2.1:8443' });
    // Frankfurt's nearest is fra, which has no certificate: the next nearest with HTTPS, par.
    expect(e.chooseHttps('198.51.100.30', 'live')).toEqual({ node: 'par', hlsBase: 'https://192.0.2.1:8443' });
    // tyo full, then down: the Tokyo viewer stays here.
    expect(follower.accept(state(2, { load: 10 }))).toMatchObject({ ok: true });
    expect(e.chooseHttps('198.51.100.20', 'live')?.node).toBe('par');
    expect(follower.accept(state(3, { healthy: false }))).toMatchObject({ ok: true });
    expect(e.chooseHttps('198.51.100.20', 'live')?.node).toBe('par');
    // tyo's certificate gone from its reports (no httpsUrl): not chosen.
    expect(follower.accept(state(4, { httpsUrl: undefined }))).toMatchObject({ ok: true });
    expect(e.chooseHttps('198.51.100.20', 'live')?.node).toBe('par');
  });

  it('while the state is not current (none yet, origin lost) the door sends viewers to this node', () => {
    const { e, follower, advance } = setup('https://192.0.2.1:8443');
    expect(e.chooseHttps('198.51.100.20', 'live')).toEqual({ node: 'par', hlsBase: 'https://192.0.2.1:8443' });
    expect(e.viewer()).toBeUndefined(); // no state: no verifier at all (every door answers 503)
    follower.accept(state(1));
    expect(e.chooseHttps('198.51.100.20', 'live')?.node).toBe('tyo');
    expect(e.viewer()).toEqual({ user: 'viewer', password: '', ha1: digestHa1('viewer', 'Stream Haven', 'pw') });
    advance(7000);
    expect(e.chooseHttps('198.51.100.20', 'live')?.node).toBe('par');
  });

  it('a node without a certificate of its own sends every viewer to a node with one, or nowhere', () => {
    const { e, follower } = setup(undefined);
    expect(e.chooseHttps('198.51.100.10', 'live')).toBeUndefined();
    follower.accept(state(1));
    expect(e.chooseHttps('198.51.100.10', 'live')).toEqual({ node: 'tyo', hlsBase: 'https://192.0.2.3:8443' });
  });
});

describe('createHttpsUrlBook: the origin offers a node for HTTPS only while its reports say it is certified', () => {
  it('keeps the last URL, forgets it on a report without one and after the TTL', () => {
    let now = 0;
    const book = createHttpsUrlBook({ ttlMs: 35_000, now: () => now });
    expect(book.get('tyo')).toBeUndefined();
    book.report('tyo', 'https://192.0.2.3:8443');
    expect(book.get('tyo')).toBe('https://192.0.2.3:8443');
    book.report('tyo', undefined);
    expect(book.get('tyo')).toBeUndefined();
    book.report('tyo', 'https://192.0.2.3:8443');
    now += 36_000;
    expect(book.get('tyo')).toBeUndefined();
  });

  it('with hostOf, takes only a URL that names the node\'s own public host, and says why it refused one', () => {
    const hosts: Record<string, string> = { tyo: '192.0.2.3', v6: '[2001:db8::3]' };
    const book = createHttpsUrlBook({ ttlMs: 35_000, hostOf: (n) => hosts[n] });
    expect(book.report('tyo', 'https://192.0.2.3:8443')).toBeUndefined();
    expect(book.get('tyo')).toBe('https://192.0.2.3:8443');
    // Another host: refused, and the URL taken before is dropped (the node's door is not trusted now).
    expect(book.report('tyo', 'https://203.0.113.9:8443')).toMatch(/node "tyo" reported an HTTPS URL for host 203\.0\.113\.9, not its public host 192\.0\.2\.3/);
    expect(book.get('tyo')).toBeUndefined();
    expect(book.report('v6', 'https://[2001:DB8::3]:443')).toBeUndefined();
    expect(book.get('v6')).toBe('https://[2001:DB8::3]:443');
    expect(book.report('gone', 'https://192.0.2.9:8443')).toMatch(/not in this Haven/);
    expect(book.get('gone')).toBeUndefined();
  });
});
