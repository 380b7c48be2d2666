import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HavenEmitter, HavenEvents, LogStats, NodeHealthState, ProbeResult } from '@haven/core';
import type { IngestVerdict } from '@haven/ingest';
import type { NodeReport } from './schemas.js';
import { ingestGauges } from './ingest-metrics.js';
import { registerPlayerMetrics, type PlayerMetricsRow } from './metrics-players.js';

/** Metric names, in one place for the README and the tests. */
export const METRIC_NAMES = {
  routed: 'haven_viewers_routed_total',
  decision: 'haven_route_decision_seconds',
  probes: 'haven_probes_total',
  probeRtt: 'haven_probe_rtt_seconds',
  nodeUp: 'haven_node_up',
  nodeViewers: 'haven_node_viewers',
  spliceBytes: 'haven_splice_bytes_total',
  refused: 'haven_viewers_refused_total',
  authFailures: 'haven_auth_failures_total',
  restarts: 'haven_plugin_process_restarts_total',
  publisherUp: 'haven_publisher_up',
  reports: 'haven_node_reports_total',
  reportedBytes: 'haven_node_reported_bytes',
  errors: 'haven_errors_total',
  logDropped: 'haven_log_lines_dropped_total',
} as const;

export interface HavenMetrics {
  readonly registry: Registry;
  /** Subscribe to the Haven's events; returns the function that unsubscribes. */
  attach(events: HavenEmitter): () => void;
  /** Set `haven_node_up` for nodes whose health is known before any event arrives. */
  seed(nodes: Array<{ name: string; health: NodeHealthState }>): void;
  report(report: NodeReport): void;
}

export interface MetricsOptions {
  /** Node.js process metrics with the `haven_` prefix. Default true. */
  processMetrics?: boolean;
  /** VRChat ingest verdicts of live streams, read at each scrape. */
  vrchatVerdicts?: () => Promise<IngestVerdict[]>;
  /** Current viewers per node, read at each scrape. */
  viewersByNode?: () => Promise<Map<string, number>>;
  /** Per-player follow-through and auth schemes, read at each scrape. */
  players?: () => Promise<PlayerMetricsRow[] | undefined>;
  /** The log sink's counts (lines dropped while the log reader stalled), read at each scrape. */
  log?: () => LogStats | undefined;
}

function probeResult(r: ProbeResult): string {
  if (!r.up) return 'down';
  return r.ready ? 'ok' : 'not_ready';
}

/** The Haven's Prometheus metrics on a dedicated registry (never prom-client's global one). */
export function createMetrics(options: MetricsOptions = {}): HavenMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'haven_' });

  const routed = new Counter({
    name: METRIC_NAMES.routed,
    help: 'Viewers routed, by chosen node, selection reason and hand-over mode.',
    labelNames: ['node', 'reason', 'mode'] as const,
    registers,
  });
  const decision = new Histogram({
    name: METRIC_NAMES.decision,
    // One series, no labels: deciding takes the same path whatever the hand-over mode.
    help: 'Time from the viewer request to the routing decision.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const probes = new Counter({
    name: METRIC_NAMES.probes,
    help: 'Health probes by node and result (ok, not_ready, down).',
    labelNames: ['node', 'result'] as const,
    registers,
  });
  const probeRtt = new Gauge({ name: METRIC_NAMES.probeRtt, help: 'Round-trip time of the last probe of a node.', labelNames: ['node'] as const, registers });
  const nodeUp = new Gauge({ name: METRIC_NAMES.nodeUp, help: '1 when the node is healthy, 0 when it is down.', labelNames: ['node'] as const, registers });
  if (options.players) registerPlayerMetrics(registry, options.players);
  const viewersByNode = options.viewersByNode;
  new Gauge({
    name: METRIC_NAMES.nodeViewers,
    help: 'Current viewers per node (reports from nodes, the origin media server).',
    labelNames: ['node'] as const,
    registers,
    async collect() {
      if (!viewersByNode) return;
      try {
        const current = await viewersByNode();
        this.reset();
        for (const [node, v] of current) this.set({ node }, v);
      } catch {
        // Keep the last values: a scrape must not fail because the status was briefly unavailable.
      }
    },
  });
  const spliceBytes = new Counter({
    name: METRIC_NAMES.spliceBytes,
    help: 'Bytes relayed through the gateway splice (viewers served by the origin).',
    labelNames: ['stream'] as const,
    registers,
  });
  const refused = new Counter({ name: METRIC_NAMES.refused, help: 'Viewers refused, by reason.', labelNames: ['reason'] as const, registers });
  const authFailures = new Counter({ name: METRIC_NAMES.authFailures, help: 'Viewers refused for bad credentials.', registers });
  const restarts = new Counter({
    name: METRIC_NAMES.restarts,
    help: 'Supervised process restarts (MediaMTX: plugin="mediamtx").',
    labelNames: ['plugin', 'process'] as const,
    registers,
  });
  const publisherUp = new Gauge({ name: METRIC_NAMES.publisherUp, help: '1 while a publisher is live on the stream.', labelNames: ['stream'] as const, registers });
  const reports = new Counter({ name: METRIC_NAMES.reports, help: 'Reports received from nodes.', labelNames: ['node'] as const, registers });
  const reportedBytes = new Gauge({
    name: METRIC_NAMES.reportedBytes,
    help: "Bytes a node reported for its media server (direction in or out), as the node's own running total.",
    labelNames: ['node', 'direction'] as const,
    registers,
  });
  ingestGauges(registers, options.vrchatVerdicts);
  const log = options.log;
  if (log) {
    // The sink counts; a counter that reads that count at scrape time (prom-client has no "set" for counters).
    new Counter({
      name: METRIC_NAMES.logDropped,
      help: 'Log lines dropped because the log reader did not keep up (the log never blocks the Haven).',
      registers,
      collect() {
        const dropped = log()?.dropped ?? 0;
        this.reset();
        if (dropped > 0) this.inc(dropped);
      },
    });
  }
  const errors = new Counter({ name: METRIC_NAMES.errors, help: 'Background errors by source.', labelNames: ['source'] as const, registers });

  const setUp = (node: string, state: NodeHealthState) => {
    if (state === 'unknown') nodeUp.remove({ node });
    else nodeUp.set({ node }, state === 'up' ? 1 : 0);
  };

  const handlers: { [K in keyof HavenEvents]?: (...args: HavenEvents[K]) => void } = {
    'viewer:routed': (e) => {
      routed.inc({ node: e.node, reason: e.reason, mode: e.mode });
      decision.observe(Math.max(0, e.decisionMs) / 1000);
    },
    'viewer:served': (e) => {
      if (e.bytes !== undefined && e.bytes > 0) spliceBytes.inc({ stream: e.stream }, e.bytes);
    },
    'viewer:refused': (e) => {
      refused.inc({ reason: e.reason });
      if (e.reason === 'auth') authFailures.inc();
    },
    'health:probed': (e) => {
      probes.inc({ node: e.node, result: probeResult(e.result) });
      if (e.result.up) probeRtt.set({ node: e.node }, e.result.rttMs / 1000);
    },
    'health:changed': (e) => setUp(e.node, e.to),
    'node:up': (e) => setUp(e.node.name, 'up'),
    'node:down': (e) => setUp(e.node.name, 'down'),
    'node:removed': (e) => {
      for (const g of [nodeUp, probeRtt]) g.remove({ node: e.name });
      reportedBytes.remove({ node: e.name, direction: 'in' });
      reportedBytes.remove({ node: e.name, direction: 'out' });
    },
    'publisher:up': (e) => publisherUp.set({ stream: e.stream }, 1),
    'publisher:down': (e) => publisherUp.set({ stream: e.stream }, 0),
    'process:restarted': (e) => restarts.inc({ plugin: e.plugin, process: e.process }),
    error: (e) => errors.inc({ source: e.source }),
  };

  return {
    registry,
    attach(events) {
      const entries = Object.entries(handlers) as Array<[keyof HavenEvents, (...args: unknown[]) => void]>;
      for (const [name, fn] of entries) events.on(name, fn as never);
      return () => {
        for (const [name, fn] of entries) events.off(name, fn as never);
      };
    },
    seed(nodes) {
      for (const n of nodes) if (n.health !== 'unknown') setUp(n.name, n.health);
    },
    report(r) {
      reports.inc({ node: r.node });
      let bytesIn = 0;
      let bytesOut = 0;
      for (const s of r.streams) {
        bytesIn += s.bytesIn;
        bytesOut += s.bytesOut;
      }
      reportedBytes.set({ node: r.node, direction: 'in' }, bytesIn);
      reportedBytes.set({ node: r.node, direction: 'out' }, bytesOut);
    },
  };
}
