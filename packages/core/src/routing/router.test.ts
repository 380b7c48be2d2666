import { describe, expect, it } from 'vitest';
import type { HavenNode, HealthProbe, Locator, ProbeResult, ViewerLocation } from '../contracts.js';
import { HavenEmitter, type ViewerRoutedEvent } from '../events.js';
import { healthSchemaDefaults } from './defaults.js';
import { HealthMonitor } from './health.js';
import { NodeRegistry } from './registry.js';
import { Router } from './router.js';

const PLACES: Record<string, ViewerLocation> = {
  '198.51.100.1': { lat: 48.86, lon: 2.35, country: 'FR', city: 'Paris' },
  '198.51.100.2': { lat: 40.7, lon: -74, country: 'US', city: 'New York' },
};
const locator: Locator = { name: 'test', capabilities: { ipv6: true, updates: false }, locate: (ip) => PLACES[ip] };
const node = (name: string, lat: number, lon: number, extra: Partial<HavenNode> = {}): HavenNode => ({
  name,
  location: { lat, lon },
  rtspUrl: `rtsp://${name}.example:8554`,
  capacity: 0,
  ...extra,
});

function setup(opts: { sticky?: number; results?: Record<string, ProbeResult> } = {}) {
  const results: Record<string, ProbeResult> = opts.results ?? {};
  const probed: string[] = [];
  const probe: HealthProbe = {
    name: 'fake',
    async probe({ node: n }) {
      probed.push(n.name);
      return results[n.name] ?? { up: true, ready: true, rttMs: 1 };
    },
  };
  const events = new HavenEmitter();
  const routed: ViewerRoutedEvent[] = [];
  events.on('viewer:routed', (e) => routed.push(e));
  const registry = new NodeRegistry([node('origin', 38.9, -77.04, { origin: true }), node('fra', 50.11, 8.68), node('par', 48.86, 2.35), node('tyo', 35.68, 139.69)]);
  const health = new HealthMonitor({ registry, probes: () => [probe], streams: () => ['live'], config: { ...healthSchemaDefaults(), freshMs: 0 } });
  const router = new Router({
    registry,
    health,
    locator: () => locator,
    policy: () => ({ redirect: 'known-players', redirectUserAgents: ['Lavf', 'LibVLC'] }),
    streams: () => ['live'],
    stickySec: opts.sticky ?? 0,
    events,
  });
  return { router, registry, health, results, probed, routed };
}

describe('Router', () => {
  it('the redirect policy and the plan: unknown players are not redirected; the nearest node first, the origin when it is nearest, no location falls back', () => {
    const { router } = setup();
    expect(router.followsRedirects('VRChat/2024')).toBe(false);
    expect(router.followsRedirects(undefined)).toBe(false);
    expect(router.followsRedirects('Lavf/60.16.100')).toBe(true);
    const plan = (ip: string) => router.plan(ip, 'live', router.locate(ip));
    expect(plan('198.51.100.1').reason).toBe('nearest');
    expect(plan('198.51.100.1').ordered[0]?.node.name).toBe('par');
    expect(plan('198.51.100.2').ordered[0]?.node.origin).toBe(true);
    expect(plan('198.51.100.2').reason).toBe('origin-nearest');
    expect(plan('10.0.0.1').reason).toBe('fallback-no-location');
  });

  it('probes before the redirect and moves on when the nearest node is dead', async () => {
    const { router, results, probed } = setup({ results: { par: { up: false, ready: false, rttMs: 0, reason: 'ECONNREFUSED' } } });
    const d = await router.decide('198.51.100.1', 'live');
    expect(d?.node.name).toBe('fra');
    expect(d?.reason).toBe('probe-failed-next');
    expect(d?.tried).toEqual([
      { node: 'par', ok: false, probed: true, reason: 'ECONNREFUSED' },
      { node: 'fra', ok: true, probed: true },
    ]);
    expect(probed).toEqual(['par', 'fra']);
    results.fra = { up: true, ready: false, rttMs: 0, reason: '404 Not Found' };
    results.tyo = { up: false, ready: false, rttMs: 0 };
    const d2 = await router.decide('198.51.100.1', 'live');
    expect(d2?.node.name).toBe('origin');
    // par went down on its failed probe, so only fra was probed again; the origin is nearer than tyo.
    expect(d2?.tried.map((t) => t.node)).toEqual(['fra']);
    expect(router.stats()).toMatchObject({ probesBeforeRedirect: 3, probesBeforeRedirectFailed: 2 });
  });

  it('falls back to the origin after maxAttempts', async () => {
    const { router, results } = setup({});
    for (const n of ['par', 'fra', 'tyo']) results[n] = { up: false, ready: false, rttMs: 0 };
    const r = new Router({ registry: router.registry, health: router.health, locator: () => locator, policy: () => ({ redirect: 'always', redirectUserAgents: [] }), streams: () => ['live'], maxAttempts: 1 });
    const d = await r.decide('198.51.100.1', 'live');
    expect(d?.node.name).toBe('origin');
    expect(d?.tried.map((t) => t.node)).toEqual(['par']);
  });

  it('a locator that asks elsewhere: the decision waits for its answer (prepare), but not for long', async () => {
    const { router } = setup({});
    let answer: (() => void) | undefined;
    const known = new Map<string, ViewerLocation>();
    const remote: Locator = {
      ...locator,
      locate: (ip) => known.get(ip),
      prepare: (ip) =>
        ip === '203.0.113.9'
          ? new Promise<void>(() => {}) // never answers
          : new Promise<void>((resolve) => (answer = () => (known.set(ip, PLACES['198.51.100.1']!), resolve()))),
    };
    const r = new Router({ registry: router.registry, health: router.health, locator: () => remote, policy: () => ({ redirect: 'always', redirectUserAgents: [] }), streams: () => ['live'] });
    const pending = r.decide('203.0.113.1', 'live');
    setTimeout(() => answer?.(), 50);
    expect((await pending)?.node.name).toBe('par');
    // A locator that never answers does not hold the viewer: the decision goes on without a location.
    const slow = await r.decide('203.0.113.9', 'live');
    expect(slow?.node).toBeDefined();
    expect(slow?.location).toBeUndefined();
  });

  it('keeps a viewer on its node while it stays healthy (sticky)', async () => {
    const { router, registry } = setup({ sticky: 60 });
    const first = await router.decide('198.51.100.1', 'live');
    router.routed({ ip: '198.51.100.1', stream: 'live', node: first?.node.name ?? '', mode: 'redirect', reason: 'nearest', decisionMs: 1 });
    registry.add(node('par2', 48.86, 2.35));
    const again = await router.decide('198.51.100.1', 'live');
    expect(again?.node.name).toBe(first?.node.name);
    expect(again?.reason).toBe('sticky');
  });

  it('counts decisions, keeps recent ones, emits events', async () => {
    const { router, routed } = setup();
    router.routed({ ip: '1.1.1.1', stream: 'live', node: 'par', mode: 'redirect', reason: 'nearest', decisionMs: 2 });
    router.routed({ ip: '1.1.1.2', stream: 'live', node: 'origin', mode: 'splice', reason: 'policy-splice', decisionMs: 4 });
    router.refused('1.1.1.3', 'auth');
    const s = router.stats();
    expect(s).toMatchObject({ routed: 2, byMode: { redirect: 1, splice: 1 }, byNode: { par: 1, origin: 1 }, refused: { auth: 1 } });
    expect(s.decisionMs.max).toBe(4);
    expect(router.recent().map((e) => e.ip)).toEqual(['1.1.1.1', '1.1.1.2']);
    expect(routed.length).toBe(2);
  });

  it('explain: a dry run with ranked candidates and no side effects', async () => {
    const { router, probed, routed } = setup();
    const e = router.explain('198.51.100.1', 'Lavf/60');
    expect(e).toMatchObject({ mode: 'redirect', node: 'par', reason: 'nearest', stream: 'live', location: { city: 'Paris' } });
    expect(e.candidates.map((c) => c.node)).toEqual(['par', 'fra', 'origin', 'tyo']);
    expect(e.candidates[0]).toMatchObject({ rank: 1, distanceKm: 0, health: 'unknown', load: 0 });
    expect(router.explain('198.51.100.1', 'VRChat')).toMatchObject({ mode: 'splice', node: 'origin', reason: 'policy-splice' });
    expect(router.explain('10.1.1.1', 'Lavf')).toMatchObject({ mode: 'splice', node: 'origin', reason: 'fallback-no-location' });
    expect(router.explain('198.51.100.1', 'Lavf', 'nope').note).toMatch(/not served/);
    expect(probed).toEqual([]);
    expect(routed).toEqual([]);
    expect(router.stats().routed).toBe(0);
  });

  it('a locator that throws means no location', () => {
    const { router } = setup();
    const r = new Router({
      registry: router.registry,
      health: router.health,
      locator: () => ({ name: 'bad', capabilities: { ipv6: false, updates: false }, locate: () => { throw new Error('boom'); } }),
      policy: () => ({ redirect: 'always', redirectUserAgents: [] }),
      streams: () => ['live'],
    });
    expect(r.locate('198.51.100.1')).toBeUndefined();
    expect(r.plan('198.51.100.1', 'live', r.locate('198.51.100.1')).reason).toBe('fallback-no-location');
  });
});
