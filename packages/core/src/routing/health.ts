import type { HavenNode, HealthProbe, NodeHealthState, ProbeResult } from '../contracts.js';
import type { HealthConfig } from '../config/schema.js';
import type { HavenEmitter } from '../events.js';
import type { Logger } from '../logger.js';
import type { CoreService } from '../core-service.js';
import { probeOk, runProbes } from './probes.js';
import type { NodeRegistry } from './registry.js';
import { HealthRecord, LoadTracker } from './health-record.js';

export interface HealthMonitorOptions {
  registry: NodeRegistry;
  /** Probes to run against each node, read at every round (plugins may add theirs later). */
  probes: () => readonly HealthProbe[];
  /** Streams to check on each node, read at every round. */
  streams: () => readonly string[];
  config: HealthConfig;
  events?: HavenEmitter;
  logger?: Logger;
  /** Background probes in flight at once. Default 16. */
  concurrency?: number;
  /**
   * Spread each background round's probes over this share of `intervalMs` (0: all at once). Default
   * 0.8: at 200 nodes every 5 s, one probe every 20 ms instead of 200 in one burst that queues the
   * redirects' own probes behind it.
   */
  spread?: number;
  /** A node's own report of its readers counts this long, ms. Default 60000. */
  reportTtlMs?: number;
  /** Routes counted as load when no probe reports readers, over this window (ms). Default 60000. */
  loadWindowMs?: number;
  now?: () => number;
}

/** The node's address answered with a refusal or a reset: nothing serves there now. */
function refusedOrReset(r: ProbeResult): boolean {
  return !r.up && /\b(ECONNREFUSED|ECONNRESET)\b/.test(r.reason ?? '');
}

export interface FreshCheck {
  ok: boolean;
  /** A probe ran for this check (the last result was older than `freshMs` or missing). */
  probed: boolean;
  /** This check asked for that probe first (false when it joined one another check asked for). */
  started: boolean;
  result?: ProbeResult;
}

export interface NodeHealthSnapshot {
  node: string;
  origin: boolean;
  state: NodeHealthState;
  load: number;
  streams: Array<{ stream: string; state: NodeHealthState; ageMs?: number; last?: ProbeResult }>;
}

/**
 * Probes every relay node on an interval with hysteresis (`failuresToDown` failures in a row to go
 * down, `successesToUp` successes to come back; the first result decides a new node), per stream.
 * `ensureFresh` is the probe-before-redirect: it reuses a good result younger than `freshMs` (default 0:
 * never) and otherwise probes with the short `redirectProbeTimeoutMs` deadline; a failed redirect probe
 * takes the node down at once (hysteresis only for coming back up), and so does any probe, background
 * or not, that the node refused or reset (nothing listens there any more: a dead process or machine).
 * The origin is never probed: it is this process, always `up`.
 */
export class HealthMonitor implements CoreService {
  readonly name = 'health';
  readonly #o: HealthMonitorOptions;
  readonly #now: () => number;
  /**
   * Node name -> stream -> record. Nested, not keyed by `node + stream`: every decision reads the state
   * and load of every node, and at 200 nodes building those keys was a string per node per decision.
   */
  readonly #records = new Map<string, Map<string, HealthRecord>>();
  readonly #inflight = new Map<string, Promise<ProbeResult>>();
  /** The running probes' controllers (aborted by `stop`). */
  readonly #probing = new Set<AbortController>();
  /** Fresh probes asked for but not started yet: every check that arrives meanwhile shares it. */
  readonly #queued = new Map<string, Promise<ProbeResult>>();
  readonly #load: LoadTracker;
  readonly #reported = new Map<string, { readers: number; at: number }>();
  #stop = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #running = false;
  /** Wake-ups of a spread round's waits (`stop` ends them). */
  readonly #sleeping = new Set<() => void>();

  constructor(options: HealthMonitorOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#load = new LoadTracker(options.loadWindowMs ?? 60_000, this.#now);
  }

  get config(): HealthConfig {
    return this.#o.config;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#stop = new AbortController();
    const loop = () => {
      const started = performance.now();
      const interval = this.#o.config.intervalMs;
      this.#round = this.probeAll(interval * (this.#o.spread ?? 0.8)).finally(() => {
        // Rounds start an interval apart (a spread round fills most of it), with a short gap at least.
        if (this.#running) this.#timer = setTimeout(loop, Math.max(interval * 0.2, interval - (performance.now() - started)));
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stop.abort(new Error('health monitor stopped'));
    for (const wake of this.#sleeping) wake();
    for (const ac of this.#probing) ac.abort(this.#stop.signal.reason);
    await this.#round?.catch(() => {});
    await Promise.allSettled([...this.#inflight.values(), ...this.#queued.values()]);
    for (const p of this.#o.probes()) p.close?.();
  }

  #record(node: HavenNode, stream: string): HealthRecord {
    let byStream = this.#records.get(node.name);
    if (!byStream) this.#records.set(node.name, (byStream = new Map()));
    let rec = byStream.get(stream);
    if (!rec || rec.node !== node) {
      rec = new HealthRecord(node, stream);
      byStream.set(stream, rec);
    }
    return rec;
  }

  /** The record of this node (this very registration) and stream, if any; read-only. */
  #find(node: HavenNode, stream: string): HealthRecord | undefined {
    const rec = this.#records.get(node.name)?.get(stream);
    return rec?.node === node ? rec : undefined;
  }

  #nodeState(node: HavenNode): NodeHealthState {
    if (node.origin) return 'up';
    let any = false;
    let allDown = true;
    for (const s of this.#o.streams()) {
      const st = this.#find(node, s)?.state ?? 'unknown';
      if (st === 'up') any = true;
      if (st !== 'down') allDown = false;
    }
    return any ? 'up' : allDown && this.#o.streams().length > 0 ? 'down' : 'unknown';
  }

  /** Health of a node for one stream, or of the node as a whole (up when any stream is up). */
  state(node: HavenNode, stream?: string): NodeHealthState {
    if (node.origin) return 'up';
    if (stream === undefined) return this.#nodeState(node);
    // Read-only: a question about a stream nobody probes must not grow the records.
    return this.#find(node, stream)?.state ?? 'unknown';
  }

  /** Last probe result for a node and stream, with its age in ms. */
  last(node: HavenNode, stream: string): { result: ProbeResult; ageMs: number } | undefined {
    const rec = this.#find(node, stream);
    if (!rec) return undefined;
    return rec.last && rec.lastAt !== undefined ? { result: rec.last, ageMs: this.#now() - rec.lastAt } : undefined;
  }

  /**
   * Current load: the readers the node itself reported (or a probe saw), plus viewers routed to it
   * since; recent routes alone only when neither has reported readers. A report older than
   * `reportTtlMs` no longer counts.
   */
  load(node: HavenNode): number {
    let readers: number | undefined;
    let at = 0;
    for (const s of this.#o.streams()) {
      const rec = this.#find(node, s);
      if (rec?.last?.readers !== undefined) {
        readers = (readers ?? 0) + rec.last.readers;
        at = Math.max(at, rec.lastAt ?? 0);
      }
    }
    const rep = this.#reported.get(node.name);
    if (rep && rep.at >= at && this.#now() - rep.at <= (this.#o.reportTtlMs ?? 60_000)) {
      readers = rep.readers;
      at = rep.at;
    }
    return this.#load.load(node.name, readers, at);
  }

  /** A node reported its own readers (all streams): its load from now on, until a newer report. */
  reportReaders(node: string, readers: number): void {
    this.#reported.set(node, { readers: Math.max(0, Math.floor(readers)), at: this.#now() });
    if (this.#reported.size > 10_000) this.#reported.delete(this.#reported.keys().next().value as string);
  }

  /** A viewer was sent to this node (counts as load until a probe reports readers). */
  noteRouted(node: HavenNode): void {
    this.#load.note(node.name);
  }

  /** Probe now (single-flight per node and stream) and record the result. */
  probeNow(node: HavenNode, stream: string, timeoutMs = this.#o.config.timeoutMs): Promise<ProbeResult> {
    const key = `${node.name}\u0000${stream}`;
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    // One controller and one timer per probe, both let go when it ends (`stop` aborts the running
    // ones): `AbortSignal.any` with `AbortSignal.timeout` kept a timer and weak references per probe
    // alive until collected, at a few hundred probes a second a steady source of GC work.
    const ac = new AbortController();
    if (this.#stop.signal.aborted) ac.abort(this.#stop.signal.reason);
    this.#probing.add(ac);
    this.#record(node, stream).probeStartedAt = performance.now();
    const timer = setTimeout(() => ac.abort(new DOMException('The probe timed out', 'TimeoutError')), timeoutMs);
    const p = runProbes(this.#o.probes(), { node, stream }, ac.signal)
      .finally(() => {
        clearTimeout(timer);
        this.#probing.delete(ac);
      })
      .then((r) => {
        if (!this.#stop.signal.aborted) {
          this.#apply(node, stream, r);
          if (refusedOrReset(r)) this.#markDown(node, stream, r);
        }
        return r;
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  /**
   * A probe whose answer postdates this call, shared by every check that arrives before it starts
   * (single-flight for fresh checks). A probe already in flight started before this call, so its
   * answer may predate the question: the shared probe starts once it settles, or at once (after the
   * caller's synchronous work: the checks made with it share it) when none is in flight, so that its
   * node answers while this process reads the rest of a burst; and not before `freshProbeGapMs` after
   * the node's last probe started, so that under a steady stream of viewers a probe is shared by all
   * that arrive in that gap (back to back, a node's probes came at ~0.8 per redirect under a redirect
   * load).
   */
  #freshProbe(node: HavenNode, stream: string, timeoutMs: number): Promise<ProbeResult> {
    const key = `${node.name}\u0000${stream}`;
    const queued = this.#queued.get(key);
    if (queued) return queued;
    const before = this.#inflight.get(key);
    const gap = this.#o.config.freshProbeGapMs ?? 0;
    const spaced = (): Promise<void> | undefined => {
      const wait = this.#record(node, stream).probeStartedAt + gap - performance.now();
      return wait >= 1 ? new Promise<void>((r) => setTimeout(r, wait)) : undefined;
    };
    const gate = before ? before.then(spaced, spaced) : (spaced() ?? Promise.resolve());
    const p = gate.then(() => {
      this.#queued.delete(key);
      if (this.#stop.signal.aborted) return { up: false, ready: false, rttMs: 0, reason: 'health monitor stopped' } satisfies ProbeResult;
      return this.probeNow(node, stream, timeoutMs);
    });
    this.#queued.set(key, p);
    return p;
  }

  /**
   * Probe-before-redirect: true when the node can take a viewer of this stream right now. The answer
   * always comes from a probe that started after this call (or a good result younger than `freshMs`).
   */
  async ensureFresh(node: HavenNode, stream: string): Promise<FreshCheck> {
    if (node.origin) return { ok: true, probed: false, started: false };
    const rec = this.#record(node, stream);
    const { freshMs, redirectProbeTimeoutMs } = this.#o.config;
    // Only a good answer is reused; a failure is not retried while the node is down (it is no candidate then).
    if (rec.last && rec.lastAt !== undefined && this.#now() - rec.lastAt < freshMs && (probeOk(rec.last) || rec.state === 'down')) {
      return { ok: probeOk(rec.last) && rec.state !== 'down', probed: false, started: false, result: rec.last };
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<ProbeResult>((resolve) => {
      timer = setTimeout(() => resolve({ up: false, ready: false, rttMs: redirectProbeTimeoutMs, reason: 'timeout' }), redirectProbeTimeoutMs);
    });
    const started = !this.#queued.has(`${node.name}\u0000${stream}`);
    const result = await Promise.race([this.#freshProbe(node, stream, redirectProbeTimeoutMs), deadline]).finally(() => clearTimeout(timer));
    // A fresh probe that failed takes the node down now, not after `failuresToDown` rounds: the next
    // decisions must not pick it from an older good result. A deadline miss alone (a slow answer) does not.
    if (!probeOk(result) && result.reason !== 'timeout') this.#markDown(node, stream, result);
    return { ok: probeOk(result), probed: true, started, result };
  }

  /**
   * Probe again now (redirect deadline) and take the node down at once if it fails: for a node others
   * wait on (a relay parent) after a failed background probe, instead of waiting `failuresToDown` rounds.
   */
  async recheck(node: HavenNode, stream: string): Promise<boolean> {
    if (node.origin) return true;
    const result = await this.probeNow(node, stream, this.#o.config.redirectProbeTimeoutMs);
    if (!probeOk(result)) this.#markDown(node, stream, result);
    return probeOk(result);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        this.#sleeping.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.#sleeping.add(wake);
    });
  }

  /** One background round over every relay node and stream; with `spreadMs`, job i starts at i * spreadMs / jobs. */
  async probeAll(spreadMs = 0): Promise<void> {
    const nodes = this.#o.registry.list().filter((n) => !n.origin);
    const names = new Set(nodes.map((n) => n.name));
    for (const name of this.#records.keys()) if (!names.has(name)) this.#records.delete(name);
    this.#load.keep(names);
    const jobs = nodes.flatMap((node) => this.#o.streams().map((stream) => ({ node, stream })));
    let next = 0;
    const t0 = performance.now();
    const step = jobs.length > 0 ? spreadMs / jobs.length : 0;
    const worker = async () => {
      while (next < jobs.length && !this.#stop.signal.aborted) {
        const i = next++;
        const job = jobs[i];
        const wait = t0 + i * step - performance.now();
        if (wait >= 1) await this.#sleep(wait);
        if (job && !this.#stop.signal.aborted) await this.probeNow(job.node, job.stream).catch(() => {});
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency ?? 16, jobs.length) }, worker));
  }

  #apply(node: HavenNode, stream: string, result: ProbeResult): void {
    const before = this.#nodeState(node);
    const rec = this.#record(node, stream);
    rec.apply(result, this.#now(), this.#o.config);
    this.#o.events?.emit('health:probed', { node: node.name, result });
    this.#changed(node, before, result);
  }

  #markDown(node: HavenNode, stream: string, result: ProbeResult): void {
    if (this.#stop.signal.aborted) return;
    const before = this.#nodeState(node);
    const rec = this.#record(node, stream);
    if (rec.state === 'down') return;
    rec.markDown();
    this.#changed(node, before, result);
  }

  #changed(node: HavenNode, before: NodeHealthState, result: ProbeResult): void {
    const after = this.#nodeState(node);
    if (before === after) return;
    this.#o.logger?.info({ node: node.name, from: before, to: after, reason: result.reason }, 'node health changed');
    this.#o.events?.emit('health:changed', { node: node.name, from: before, to: after, result });
    if (after === 'up') this.#o.events?.emit('node:up', { node });
    else if (after === 'down') this.#o.events?.emit('node:down', result.reason === undefined ? { node } : { node, reason: result.reason });
  }

  snapshot(): NodeHealthSnapshot[] {
    return this.#o.registry.list().map((node) => ({
      node: node.name,
      origin: !!node.origin,
      state: this.state(node),
      load: this.load(node),
      streams: this.#o.streams().map((stream) => {
        const l = node.origin ? undefined : this.last(node, stream);
        const s: NodeHealthSnapshot['streams'][number] = { stream, state: this.state(node, stream) };
        if (l) Object.assign(s, { ageMs: l.ageMs, last: l.result });
        return s;
      }),
    }));
  }
}
