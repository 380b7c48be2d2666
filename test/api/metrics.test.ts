import parsePrometheusTextFormat, { type PromFamily, type PromSample } from 'parse-prometheus-text-format';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HavenError } from '@haven/core';
import { createControlApi, METRIC_NAMES, type ControlApi } from '@haven/control';
import { fakeHaven, quietLogger, REPORT_TOKEN, TOKEN, type FakeHaven } from './fake-deps.js';

let haven: FakeHaven;
let api: ControlApi;

beforeEach(async () => {
  haven = fakeHaven();
  api = createControlApi(haven.deps, { listen: '127.0.0.1:0', token: TOKEN, nodeReportToken: REPORT_TOKEN, logger: quietLogger() });
  await api.start();
});

afterEach(async () => {
  await api.stop();
});

async function scrape(): Promise<Map<string, PromFamily>> {
  const res = await fetch(`${api.url()}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusTextFormat(await res.text());
  return new Map(families.map((f) => [f.name, f]));
}

/** The one sample of a family whose labels are exactly these. */
function sample(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): PromSample | undefined {
  const family = families.get(name);
  if (!family) throw new Error(`no metric family ${name}; have ${[...families.keys()].join(', ')}`);
  return family.metrics.find((m) => JSON.stringify(m.labels ?? {}) === JSON.stringify(labels));
}

const value = (families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}) => {
  const s = sample(families, name, labels);
  return s?.value === undefined ? undefined : Number(s.value);
};

describe('/metrics in Prometheus text format', () => {
  it('counts what the events say, per node, reason, mode and result', async () => {
    const e = haven.events;
    const routed = { ip: '198.51.100.23', stream: 'live', node: 'us-east-1', mode: 'redirect' as const, reason: 'nearest' as const };
    e.emit('viewer:routed', { ...routed, decisionMs: 0.8 });
    e.emit('viewer:routed', { ...routed, decisionMs: 3 });
    e.emit('viewer:routed', { ...routed, node: 'origin', mode: 'splice', reason: 'policy-splice', decisionMs: 40 });
    e.emit('viewer:served', { ip: '198.51.100.23', stream: 'live', node: 'origin', bytes: 1000 });
    e.emit('viewer:served', { ip: '198.51.100.24', stream: 'live', node: 'origin', bytes: 2500 });
    e.emit('viewer:served', { ip: '198.51.100.25', stream: 'live', node: 'origin' });
    e.emit('viewer:refused', { ip: '192.0.2.9', reason: 'auth' });
    e.emit('viewer:refused', { ip: '192.0.2.9', reason: 'auth' });
    e.emit('viewer:refused', { ip: '192.0.2.9', reason: 'rate-limited' });
    e.emit('health:probed', { node: 'us-east-1', result: { up: true, ready: true, rttMs: 92.5 } });
    e.emit('health:probed', { node: 'us-east-1', result: { up: true, ready: false, rttMs: 90 } });
    e.emit('health:probed', { node: 'us-east-1', result: { up: false, ready: false, rttMs: 0, reason: 'timeout' } });
    e.emit('process:restarted', { plugin: 'mediamtx', process: 'mediamtx', attempt: 1, pid: 4242 });
    e.emit('publisher:up', { stream: 'live' });
    e.emit('error', { error: new HavenError('probe broke', { code: 'PROBE_FAILED' }), source: 'health' });

    const m = await scrape();
    expect(m.get(METRIC_NAMES.routed)!.type).toBe('COUNTER');
    expect(value(m, METRIC_NAMES.routed, { node: 'us-east-1', reason: 'nearest', mode: 'redirect' })).toBe(2);
    expect(value(m, METRIC_NAMES.routed, { node: 'origin', reason: 'policy-splice', mode: 'splice' })).toBe(1);

    const hist = m.get(METRIC_NAMES.decision)!;
    expect(hist.type).toBe('HISTOGRAM');
    const latency = sample(m, METRIC_NAMES.decision)!;
    expect(Number(latency.count)).toBe(3);
    expect(Number(latency.sum)).toBeCloseTo(0.0438, 6);
    expect(Number(latency.buckets!['0.001'])).toBe(1);
    expect(Number(latency.buckets!['0.005'])).toBe(2);
    expect(Number(latency.buckets!['0.025'])).toBe(2);
    expect(Number(latency.buckets!['0.05'])).toBe(3);
    expect(Number(latency.buckets!['+Inf'])).toBe(3);

    expect(value(m, METRIC_NAMES.spliceBytes, { stream: 'live' })).toBe(3500);
    expect(value(m, METRIC_NAMES.authFailures)).toBe(2);
    expect(value(m, METRIC_NAMES.refused, { reason: 'auth' })).toBe(2);
    expect(value(m, METRIC_NAMES.refused, { reason: 'rate-limited' })).toBe(1);
    expect(value(m, METRIC_NAMES.probes, { node: 'us-east-1', result: 'ok' })).toBe(1);
    expect(value(m, METRIC_NAMES.probes, { node: 'us-east-1', result: 'not_ready' })).toBe(1);
    expect(value(m, METRIC_NAMES.probes, { node: 'us-east-1', result: 'down' })).toBe(1);
    expect(m.get(METRIC_NAMES.probeRtt)!.type).toBe('GAUGE');
    expect(value(m, METRIC_NAMES.probeRtt, { node: 'us-east-1' })).toBeCloseTo(0.09, 6);
    expect(value(m, METRIC_NAMES.restarts, { plugin: 'mediamtx', process: 'mediamtx' })).toBe(1);
    expect(value(m, METRIC_NAMES.publisherUp, { stream: 'live' })).toBe(1);
    expect(value(m, METRIC_NAMES.errors, { source: 'health' })).toBe(1);
    // Process metrics come from the dedicated registry, with the haven_ prefix.
    expect(m.has('haven_process_cpu_user_seconds_total')).toBe(true);
    // No IP reaches a label.
    const text = await (await fetch(`${api.url()}/metrics`)).text();
    expect(text).not.toMatch(/198\.51\.100|192\.0\.2/);
  });

  it('tracks node up/down, viewers and reports, and forgets removed nodes', async () => {
    let m = await scrape();
    // Seeded from the status at start.
    expect(value(m, METRIC_NAMES.nodeUp, { node: 'us-east-1' })).toBe(1);
    expect(value(m, METRIC_NAMES.nodeViewers, { node: 'us-east-1' })).toBe(4);
    expect(value(m, METRIC_NAMES.nodeViewers, { node: 'origin' })).toBe(3);

    haven.setHealth('us-east-1', 'down');
    m = await scrape();
    expect(value(m, METRIC_NAMES.nodeUp, { node: 'us-east-1' })).toBe(0);
    expect(value(m, METRIC_NAMES.nodeViewers, { node: 'us-east-1' })).toBe(0);

    haven.setHealth('us-east-1', 'up');
    const res = await fetch(`${api.url()}/api/node-report`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${REPORT_TOKEN}` },
      body: JSON.stringify({ node: 'us-east-1', streams: [{ name: 'live', ready: true, readers: 6, bytesIn: 10, bytesOut: 600 }] }),
    });
    expect(res.status).toBe(200);
    m = await scrape();
    expect(value(m, METRIC_NAMES.nodeUp, { node: 'us-east-1' })).toBe(1);
    expect(value(m, METRIC_NAMES.nodeViewers, { node: 'us-east-1' })).toBe(6);
    expect(value(m, METRIC_NAMES.reports, { node: 'us-east-1' })).toBe(1);
    expect(value(m, METRIC_NAMES.reportedBytes, { node: 'us-east-1', direction: 'out' })).toBe(600);

    await haven.deps.nodes.remove('us-east-1');
    m = await scrape();
    expect(sample(m, METRIC_NAMES.nodeUp, { node: 'us-east-1' })).toBeUndefined();
    expect(sample(m, METRIC_NAMES.nodeViewers, { node: 'us-east-1' })).toBeUndefined();
    expect(value(m, METRIC_NAMES.nodeUp, { node: 'origin' })).toBe(1);
  });

  it('uses its own registry: two APIs count separately', async () => {
    const other = createControlApi(haven.deps, { listen: '127.0.0.1:0', token: TOKEN, logger: quietLogger(), processMetrics: false });
    await other.start();
    try {
      haven.events.emit('viewer:refused', { ip: '192.0.2.1', reason: 'auth' });
      const a = await scrape();
      const b = parsePrometheusTextFormat(await (await fetch(`${other.url()}/metrics`)).text());
      expect(value(a, METRIC_NAMES.authFailures)).toBe(1);
      expect(b.find((f) => f.name === METRIC_NAMES.authFailures)!.metrics[0]!.value).toBe('1');
      expect(b.some((f) => f.name === 'haven_process_cpu_user_seconds_total')).toBe(false);
    } finally {
      await other.stop();
    }
  });
});
