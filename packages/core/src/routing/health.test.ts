import { describe, expect, it } from 'vitest';
import type { HavenNode, HealthProbe, ProbeResult } from '../contracts.js';
import { HavenEmitter } from '../events.js';
import { healthSchemaDefaults } from './defaults.js';
import { HealthMonitor } from './health.js';
import { NodeRegistry } from './registry.js';

const node = (name: string, origin = false): HavenNode => ({ name, origin, location: { lat: 0, lon: 0 }, rtspUrl: `rtsp://${name}:8554`, capacity: 0 });
const OK: ProbeResult = { up: true, ready: true, rttMs: 1 };
const DOWN: ProbeResult = { up: false, ready: false, rttMs: 1, reason: 'ECONNREFUSED' };
/** The node answers but cannot serve (its relay pull is down): a failure that is not a refusal. */
const NOT_READY: ProbeResult = { up: true, ready: false, rttMs: 1, reason: '503 Service Unavailable' };

function setup(results: Record<string, ProbeResult>, extra: Partial<ReturnType<typeof healthSchemaDefaults>> = {}) {
  let now = 0;
  let calls = 0;
  const probe: HealthProbe = {
    name: 'fake',
    async probe({ node: n }) {
      calls++;
      return results[n.name] ?? DOWN;
    },
  };
  const events = new HavenEmitter();
  const log: string[] = [];
  events.on('health:changed', (e) => log.push(`${e.node}:${e.from}->${e.to}`));
  events.on('node:down', (e) => log.push(`down:${e.node.name}`));
  events.on('node:up', (e) => log.push(`up:${e.node.name}`));
  const registry = new NodeRegistry([node('origin', true), node('a'), node('b')]);
  const health = new HealthMonitor({
    registry,
    probes: () => [probe],
    streams: () => ['live'],
    config: { ...healthSchemaDefaults(), failuresToDown: 2, successesToUp: 2, freshMs: 1000, ...extra },
    events,
    now: () => now,
  });
  return { health, registry, log, results, calls: () => calls, tick: (ms: number) => (now += ms) };
}

describe('HealthMonitor', () => {
  it('decides new nodes on the first result, then needs N failures / M successes (hysteresis)', async () => {
    const t = setup({ a: OK, b: NOT_READY });
    await t.health.probeAll();
    const a = t.registry.get('a') as HavenNode;
    expect(t.health.state(a)).toBe('up');
    expect(t.health.state(t.registry.get('b') as HavenNode)).toBe('down');
    t.results.a = NOT_READY;
    await t.health.probeAll();
    expect(t.health.state(a)).toBe('up'); // one failure is not enough
    await t.health.probeAll();
    expect(t.health.state(a)).toBe('down');
    t.results.a = OK;
    await t.health.probeAll();
    expect(t.health.state(a)).toBe('down');
    await t.health.probeAll();
    expect(t.health.state(a)).toBe('up');
    expect(t.log).toEqual(['a:unknown->up', 'up:a', 'b:unknown->down', 'down:b', 'a:up->down', 'down:a', 'a:down->up', 'up:a']);
  });

  it('never probes the origin and reports it up', async () => {
    const t = setup({ a: OK, b: OK });
    await t.health.probeAll();
    expect(t.calls()).toBe(2);
    expect(t.health.state(t.registry.origin() as HavenNode)).toBe('up');
  });

  it('ensureFresh reuses a fresh result and probes a stale one', async () => {
    const t = setup({ a: OK, b: OK });
    const a = t.registry.get('a') as HavenNode;
    expect(await t.health.ensureFresh(a, 'live')).toMatchObject({ ok: true, probed: true });
    t.tick(500);
    expect(await t.health.ensureFresh(a, 'live')).toMatchObject({ ok: true, probed: false });
    t.results.a = DOWN;
    t.tick(600);
    expect(await t.health.ensureFresh(a, 'live')).toMatchObject({ ok: false, probed: true });
    // A fresh failure is not probed again within freshMs.
    expect(await t.health.ensureFresh(a, 'live')).toMatchObject({ ok: false, probed: false });
  });

  it('a failed redirect probe takes the node down at once; coming back up keeps its hysteresis', async () => {
    const t = setup({ a: OK, b: OK });
    const a = t.registry.get('a') as HavenNode;
    await t.health.probeAll();
    expect(t.health.state(a)).toBe('up');
    t.results.a = DOWN;
    t.tick(1100);
    expect(await t.health.ensureFresh(a, 'live')).toMatchObject({ ok: false, probed: true });
    expect(t.health.state(a)).toBe('down'); // failuresToDown is 2: a background failure alone would not do this
    expect(t.log.slice(-2)).toEqual(['a:up->down', 'down:a']);
    // Within freshMs the next decisions see it down without probing again.
    expect(await t.health.ensureFresh(a, 'live')).toMatchObject({ ok: false, probed: false });
    t.results.a = OK;
    await t.health.probeAll();
    expect(t.health.state(a)).toBe('down');
    await t.health.probeAll();
    expect(t.health.state(a)).toBe('up');
  });

  it('a background failure still needs failuresToDown in a row', async () => {
    const t = setup({ a: OK, b: OK });
    const a = t.registry.get('a') as HavenNode;
    await t.health.probeAll();
    t.results.a = NOT_READY;
    await t.health.probeAll();
    expect(t.health.state(a)).toBe('up');
  });

  it('a refused or reset connection takes the node down at once, background probe or not', async () => {
    for (const reason of ['ECONNREFUSED', 'rtsp: ECONNRESET']) {
      const t = setup({ a: OK, b: OK });
      const a = t.registry.get('a') as HavenNode;
      await t.health.probeAll();
      t.results.a = { up: false, ready: false, rttMs: 1, reason };
      await t.health.probeAll();
      expect(t.health.state(a), reason).toBe('down');
      expect(t.log.slice(-2)).toEqual(['a:up->down', 'down:a']);
    }
  });

  it('by default (freshMs 0) every redirect check probes: a node that died since its last good answer is never chosen', async () => {
    const t = setup({ a: OK, b: OK }, { freshMs: healthSchemaDefaults().freshMs });
    expect(healthSchemaDefaults().freshMs).toBe(0);
    const a = t.registry.get('a') as HavenNode;
    expect(await t.health.ensureFresh(a, 'live')).toMatchObject({ ok: true, probed: true });
    t.results.a = DOWN;
    expect(await t.health.ensureFresh(a, 'live')).toMatchObject({ ok: false, probed: true });
    expect(t.health.state(a)).toBe('down');
  });

  it('recheck probes at once and takes a failing node down without waiting for failuresToDown rounds', async () => {
    const t = setup({ a: OK, b: OK }, { failuresToDown: 3 });
    const a = t.registry.get('a') as HavenNode;
    await t.health.probeAll();
    expect(await t.health.recheck(a, 'live')).toBe(true);
    expect(t.health.state(a)).toBe('up');
    t.results.a = DOWN;
    const before = t.calls();
    expect(await t.health.recheck(a, 'live')).toBe(false);
    expect(t.calls()).toBe(before + 1);
    expect(t.health.state(a)).toBe('down');
    expect(t.log.slice(-2)).toEqual(['a:up->down', 'down:a']);
    expect(await t.health.recheck(t.registry.origin() as HavenNode, 'live')).toBe(true);
  });

  it('ensureFresh gives up at the redirect deadline', async () => {
    const registry = new NodeRegistry([node('slow')]);
    const hang: HealthProbe = { name: 'hang', probe: (_t, signal) => new Promise((_r, rej) => signal.addEventListener('abort', () => rej(new Error('aborted')))) };
    const health = new HealthMonitor({ registry, probes: () => [hang], streams: () => ['live'], config: { ...healthSchemaDefaults(), redirectProbeTimeoutMs: 50, timeoutMs: 5000 } });
    const r = await health.ensureFresh(registry.get('slow') as HavenNode, 'live');
    expect(r).toMatchObject({ ok: false, probed: true });
    await health.stop();
  });

  it('shares one probe between concurrent checks of the same node', async () => {
    const t = setup({ a: OK, b: OK });
    const a = t.registry.get('a') as HavenNode;
    await Promise.all(Array.from({ length: 50 }, () => t.health.ensureFresh(a, 'live')));
    expect(t.calls()).toBe(1);
  });

  it('a check that arrives while a probe is in flight waits for one that starts after it', async () => {
    // The node dies while a probe is on its way: that probe's good answer predates the second check.
    let release: (() => void) | undefined;
    const answers: ProbeResult[] = [];
    const slow: HealthProbe = {
      name: 'slow',
      probe: () => new Promise((r) => (release = () => r(answers.shift() ?? DOWN))),
    };
    const registry = new NodeRegistry([node('a')]);
    const health = new HealthMonitor({ registry, probes: () => [slow], streams: () => ['live'], config: { ...healthSchemaDefaults(), freshMs: 0, freshProbeGapMs: 0, redirectProbeTimeoutMs: 5000 } });
    const a = registry.get('a') as HavenNode;
    answers.push(OK, DOWN);
    const first = health.ensureFresh(a, 'live');
    await new Promise((r) => setImmediate(r));
    const second = [health.ensureFresh(a, 'live'), health.ensureFresh(a, 'live')];
    release?.();
    expect(await first).toMatchObject({ ok: true, started: true });
    await new Promise((r) => setImmediate(r));
    release?.();
    const [s1, s2] = await Promise.all(second);
    expect(s1).toMatchObject({ ok: false, probed: true, started: true });
    expect(s2).toMatchObject({ ok: false, probed: true, started: false });
    expect(health.state(a)).toBe('down');
    await health.stop();
  });

  it('fresh probes of one node start freshProbeGapMs apart: the checks in the gap share the next, which starts after them all', async () => {
    const starts: number[] = [];
    const counting: HealthProbe = {
      name: 'counting',
      probe: async () => {
        starts.push(performance.now());
        return OK;
      },
    };
    const registry = new NodeRegistry([node('a')]);
    const health = new HealthMonitor({ registry, probes: () => [counting], streams: () => ['live'], config: { ...healthSchemaDefaults(), freshMs: 0, freshProbeGapMs: 60 } });
    const a = registry.get('a') as HavenNode;
    expect(await health.ensureFresh(a, 'live')).toMatchObject({ ok: true, probed: true });
    expect(starts.length).toBe(1);
    // Five checks over the next 20 ms: none may take the first probe's answer, and they share one.
    const checks: Array<Promise<unknown>> = [];
    const asked: number[] = [];
    for (let i = 0; i < 5; i++) {
      asked.push(performance.now());
      checks.push(health.ensureFresh(a, 'live'));
      await new Promise((r) => setTimeout(r, 4));
    }
    const results = await Promise.all(checks);
    expect(results.every((r) => (r as { ok: boolean; probed: boolean }).ok && (r as { probed: boolean }).probed)).toBe(true);
    expect(starts.length).toBe(2);
    expect(starts[1] as number).toBeGreaterThan(Math.max(...asked));
    expect((starts[1] as number) - (starts[0] as number)).toBeGreaterThanOrEqual(55);
    // With no gap, a check after a settled probe starts its own on the next turn.
    const quick = new HealthMonitor({ registry, probes: () => [counting], streams: () => ['live'], config: { ...healthSchemaDefaults(), freshMs: 0, freshProbeGapMs: 0 } });
    await quick.ensureFresh(a, 'live');
    await quick.ensureFresh(a, 'live');
    expect(starts.length).toBe(4);
    await health.stop();
    await quick.stop();
  });

  it('counts routed viewers as load until a probe reports readers', async () => {
    const t = setup({ a: { ...OK, readers: 3 }, b: OK });
    const a = t.registry.get('a') as HavenNode;
    const b = t.registry.get('b') as HavenNode;
    t.health.noteRouted(b);
    t.health.noteRouted(b);
    expect(t.health.load(b)).toBe(2);
    t.tick(61_000);
    expect(t.health.load(b)).toBe(0);
    await t.health.probeAll();
    expect(t.health.load(a)).toBe(3);
    t.tick(1);
    t.health.noteRouted(a);
    expect(t.health.load(a)).toBe(4);
  });

  it('a round spreads its probes over the interval instead of one burst; stop ends its waits', async () => {
    const at: number[] = [];
    const nodes = ['n1', 'n2', 'n3', 'n4'].map((n) => node(n));
    const health = new HealthMonitor({
      registry: new NodeRegistry([node('origin', true), ...nodes]),
      probes: () => [{ name: 'fake', probe: async () => (at.push(performance.now()), OK) }],
      streams: () => ['live'],
      config: { ...healthSchemaDefaults(), intervalMs: 1000 },
    });
    const t0 = performance.now();
    await health.probeAll(400);
    // Job i starts at i * 100 ms (0, 100, 200, 300), not before (timers may fire late on a loaded machine).
    expect(at).toHaveLength(4);
    at.forEach((t, i) => expect(t - t0).toBeGreaterThanOrEqual(i * 100 - 2));
    expect((at[3] as number) - (at[0] as number)).toBeGreaterThanOrEqual(298);
    at.length = 0;
    await health.start();
    await new Promise((r) => setTimeout(r, 50));
    const t1 = performance.now();
    await health.stop();
    expect(performance.now() - t1).toBeLessThan(100);
    expect(at).toHaveLength(1);
  });

  it('start/stop run rounds on the interval and stop cleanly twice', async () => {
    const t = setup({ a: OK, b: OK }, { intervalMs: 100 });
    await t.health.start();
    await new Promise((r) => setTimeout(r, 50));
    await t.health.stop();
    await t.health.stop();
    const n = t.calls();
    expect(n).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 200));
    expect(t.calls()).toBe(n);
  });
});
