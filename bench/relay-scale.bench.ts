// The Haven at 200 nodes: 200 lightweight stand-in nodes (RTSP responders answering the gateway's
// health probes, each on its own 127.0.1.x address, with relay budgets) behind a real gateway; viewer
// arrivals through the gateway as real RTSP connections (authenticated DESCRIBE -> 302) in bounded
// batches from 250 loopback "places", while 10% of the nodes flap (close and reopen their port).
// Printed, each against its goal: viewers sent to a node that was dead at decision time (goal 0; every
// decision probes the node it picks, freshMs 0, and a failed probe takes the node down at once),
// decision p50/p99, gateway RSS, the relay tree's depth and origin children, time to re-parent, and
// the selector at 1,000 nodes against a fair peer (distances computed once, then a partial selection).
// Goals: decision p99 < 5 ms at 200 nodes (still missed, see the fourth round below); selector ≥ 1.0x the fair peer (met, see
// selector.bench.ts for what changed).
//
// Decision tail, profile (node --cpu-prof, smoke) and the breakdown printed below (full run, shared
// machine, load ~25 on 2 cores): sorting is not it (`select` ~1% of samples). A decision waits on
// its fresh probe (freshMs 0: every decision connects to the node it picks and asks DESCRIBE), and
// that probe's connect, the stand-in's answer and the reply all run on this one event loop, queued
// behind the rest of its batch: 200 viewers arrive at once, with 200 health probes a second in the
// background and the 200 stand-ins in the same process. Full run: decision p50 33 ms, p99 131 ms;
// probe wait p50 139 ms, p99 738 ms; event-loop delay p99 154 ms, max 1.06 s; GC 312 pauses, 10.6 s
// in 184 s, max 257 ms (per probe a socket, AbortSignal.timeout + AbortSignal.any, timers). With
// the loop stalled for longer than the goal, no change inside the decision meets it here; what
// would: stand-ins in their own process (nodes are other machines), fewer allocations per probe in
// the health monitor (a kept RTSP connection per node instead of a connect per probe), and a run
// on an idle machine.
// Second round: the stand-ins now run in their own process (stand-ins.ts; the decision's probe is
// answered by another process, as by another machine), and the 250 places each sit in their own /24 with the
// gateway's default budgets (all in one /24, the per-network undecided budget had refused ~20% of
// the arrivals: 203 of 1,000 "other answers" in a smoke run here, 4 after). Fresh probes are
// single-flight after the request (see gateway-redirect.bench.ts) and each probe has one
// AbortController and one timer instead of `AbortSignal.any` + `AbortSignal.timeout`. Viewers spread
// over 200 nodes share few probes (~0.9 probes per redirect), so single-flight helps little here.
// Full run after (shared machine, load ~9-11 on 2 cores): decision p50 63.8 ms, p99 86.4 ms (before
// 32.7 / 130.6 ms); probe wait p50 87 ms, p99 576 ms; event-loop delay p99 76 ms, max 574 ms; GC 222
// pauses, 6.2 s in 84 s, max 334 ms; 0 of 19,878 to a dead node; 122 arrivals answered otherwise (not
// broken down here; with probe waits p99 576 ms against the 300 ms probe deadline, most likely every
// node tried missed it and the origin, with no media server here, answered 503). The tail is the loop itself: a decision is a few sub-ms steps, each queued behind everything
// else the loaded process does, and a probe's round trip is three or four of those queues; with the
// loop's own delay above the goal, nothing inside the decision reaches p99 < 5 ms on this machine.
// What is left to try: a kept RTSP connection per node for probes (no connect per probe), and a run
// on an idle machine.
// Third round: probes keep one RTSP connection per node (see gateway-redirect.bench.ts: answers
// matched by CSeq, a kept connection ended under a request asked again on a new one, a deadline ends
// it; a refused or reset connect still takes the node down at once), and background rounds are spread
// over 80% of their interval (one probe every 20 ms instead of 200 at once every 5 s). Idle machine
// before (today): decision p50 11.0 ms, p99 45.8 ms; probe wait p99 69.8 ms; event-loop p99 6.75 ms;
// GC 1.0 s. Full run after, on the shared machine (load ~6-10 on 2 cores, other benchmarks and test
// suites running): 0 of 19,933 to a dead node; 1,235 connects for 30,372 probes (29,137 over a kept
// connection: the connects are the 20 flapping nodes coming back and probes ended at their deadline),
// 19.5 connects/s (before: one per probe, ~480/s); decision p50 69.0 ms, p99 204.5 ms; probe wait p50
// 38 ms, p99 317 ms; event-loop delay p99 27.6 ms, max 300 ms; GC 192 pauses, 3.6 s, max 241 ms.
// These are not comparable with the idle figures (the loop's own delay and the GC pauses, in wall
// time, are several times the idle run's) and no quiet window was left to run again. Smoke runs of
// the tree before and after, alternated on the same loaded machine (before / after, two pairs):
// decision p50 107 / 23 ms and 68 / 3.7 ms, p99 225 / 165 ms and 1,026 / 33 ms; probe wait p50 81 /
// 32 ms and 139 / 11 ms; after, ~400 connects for ~4,500 probes per run. Still missed:
// every decision waits for a probe round trip that starts after it (the guarantee of issue 24), so
// its p99 is at least the loop's p99 delay plus the node's answer; on this machine that alone is over
// the goal.
// Fourth round. The figure itself: the router keeps its last 256 decisions, the run's last batch
// after the flapping stopped, which read p50 0.6 ms in a run whose decisions were at p50 12 ms; the
// decision line and the goal now take every decision of the run. The released tree measured that way
// (same quiet machine, same day): p50 27.7 ms, p99 59.8 ms, max 120 ms. Changed: a fresh probe with
// none in flight starts at once, not after the event loop's poll (the node answers while the rest of
// the batch is read); a node's fresh probes start `health.freshProbeGapMs` (2 ms) apart, shared by
// the checks in the gap; every decision read the state and load of all 200 nodes through a key string
// per node (`node + stream`) and a new array of stream names per node: the records are now nested by
// node then stream and the names made once (`load`/`state` were 12% of the loop's busy samples).
// Full runs after (quiet machine): p50 12.4 / 13.3 ms, p99 44.3 / 48.7 ms; 0 of 19,934 to a dead
// node. Still missed, and why: the decision is the fresh probe's wait (p50 13.1 ms, p99 48.2 ms, the
// same figures), and that wait is the stand-ins answering: 200 nodes that are 200 machines in reality
// are one process here, which needs 81-89 µs of CPU per probe, 16-18 ms for a batch's 200 probes one
// after another, on the two cores the gateway and the client share. The gateway's own loop delay p99
// is 4.4-4.5 ms. The run prints those three figures. A decision that must see its node answer after
// it began (issue 24) is the node's answer time plus the gateway's turn, so the goal is out of reach
// for a benchmark whose 200 nodes answer in turn on the same two cores.
// The follow deadline below keeps the gateway from learning that this client
// never follows (no stand-in reports arrivals), which had turned arrivals after 20 s into 503s.
//   node bench/run.mjs relay-scale            full run (20,000 arrivals, ~1-2 min)
//   node bench/run.mjs --smoke relay-scale    1,000 arrivals, a few seconds
import { connect, type Socket } from 'node:net';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { createSelector, haversineKm, HavenEmitter, originConfigSchema, type NodeCandidate, type ViewerLocation } from '@haven/core';
import { createRelayPlanner, treeDepth } from '@haven/control';
import { createOriginRouting } from '@haven/gateway';
import { freePort, goalLine, mainOrWorker, median, pct, procCpuMs, rng, runWorker, smoke } from './lib.js';
import { StandIn, StandIns } from './stand-ins.js';

const NODES = 200;
const FLAPPING = NODES / 10;
const ARRIVALS = smoke ? 1_000 : 20_000;
const BATCH = smoke ? 100 : 200;
const MAX_MS = smoke ? 30_000 : 240_000;
/** Arrivals are spread over this long so flapping happens during them. */
const SPREAD_MS = smoke ? 12_000 : 60_000;
const PLACES = 250;

interface LoadParams {
  port: number;
  total: number;
  batch: number;
  maxMs: number;
  /** Pause between batch starts, ms. */
  pauseMs: number;
  auth: string;
  sources: string[];
}
interface LoadResult {
  redirected: number;
  other: number;
  errors: number;
  ms: number;
}

/** Viewer arrivals: `batch` connections at once, each one DESCRIBE, until `total` or `maxMs`. */
async function load(p: LoadParams): Promise<LoadResult> {
  let redirected = 0;
  let other = 0;
  let errors = 0;
  const t0 = performance.now();
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const s: Socket = connect({ host: '127.0.0.1', port: p.port, localAddress: p.sources[i % p.sources.length] });
      let buf = '';
      const done = () => {
        s.destroy();
        resolve();
      };
      s.setTimeout(10_000, () => {
        errors++;
        done();
      });
      s.on('connect', () => s.write(`DESCRIBE rtsp://127.0.0.1:${p.port}/live RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf60.3.100\r\nAccept: application/sdp\r\nAuthorization: ${p.auth}\r\n\r\n`));
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        if (!buf.includes('\r\n\r\n')) return;
        if (buf.startsWith('RTSP/1.0 302')) redirected++;
        else other++;
        done();
      });
      s.on('error', () => {
        errors++;
        done();
      });
    });
  let sent = 0;
  while (sent < p.total && performance.now() - t0 < p.maxMs) {
    const n = Math.min(p.batch, p.total - sent);
    const started = performance.now();
    await Promise.all(Array.from({ length: n }, (_, k) => one(sent + k)));
    sent += n;
    const wait = p.pauseMs - (performance.now() - started);
    if (wait > 0 && sent < p.total) await new Promise((res) => setTimeout(res, wait));
  }
  return { redirected, other, errors, ms: performance.now() - t0 };
}


/** A stand-in node: answers OPTIONS/DESCRIBE like a node with the stream; can die and come back. */
/** The fair peer for the selector: distances computed once per viewer, then a partial (top-k) selection. */
function fairPeerTop(v: ViewerLocation, cs: NodeCandidate[], k: number, dist: Float64Array): number[] {
  const best: number[] = [];
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i] as NodeCandidate;
    if (c.health === 'down' || (c.node.capacity > 0 && c.load >= c.node.capacity)) {
      dist[i] = Infinity;
      continue;
    }
    dist[i] = haversineKm(v, c.node.location);
  }
  for (let i = 0; i < cs.length; i++) {
    const d = dist[i] as number;
    if (d === Infinity) continue;
    if (best.length < k) {
      best.push(i);
      best.sort((a, b) => (dist[a] as number) - (dist[b] as number));
    } else if (d < (dist[best[k - 1] as number] as number)) {
      best[k - 1] = i;
      best.sort((a, b) => (dist[a] as number) - (dist[b] as number));
    }
  }
  return best;
}

function selectorRatio(): { ours: number; peer: number } {
  const r = rng(1000);
  const cs: NodeCandidate[] = Array.from({ length: 1000 }, (_, i) => ({
    node: { name: `n${i}`, location: { lat: r() * 140 - 70, lon: r() * 360 - 180 }, rtspUrl: `rtsp://n${i}`, capacity: r() < 0.5 ? 0 : 50 },
    health: r() < 0.9 ? 'up' : 'down',
    load: Math.floor(r() * 60),
  }));
  const vs: ViewerLocation[] = Array.from({ length: 64 }, () => ({ lat: r() * 140 - 70, lon: r() * 360 - 180 }));
  const ours = createSelector({ limit: 5 });
  const dist = new Float64Array(cs.length);
  for (const v of vs) {
    const a = ours({ viewer: v, candidates: cs }).ordered[0]?.node.name;
    const b = cs[fairPeerTop(v, cs, 5, dist)[0] as number]?.node.name;
    if (a !== b) throw new Error(`selector and peer disagree: ${a} vs ${b}`);
  }
  const budget = smoke ? 100 : 500;
  const rate = (f: (v: ViewerLocation) => number) => {
    let n = 0;
    let sink = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < budget) {
      for (const v of vs) sink += f(v);
      n += vs.length;
    }
    if (sink < 0) console.log(sink);
    return n / ((performance.now() - t0) / 1000);
  };
  const o: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < (smoke ? 3 : 7); i++) {
    p.push(rate((v) => fairPeerTop(v, cs, 5, dist).length));
    o.push(rate((v) => ours({ viewer: v, candidates: cs }).ordered.length));
  }
  return { ours: median(o), peer: median(p) };
}

async function main(): Promise<void> {
  const port = await freePort();
  const r = rng(200);
  // The stand-ins run in their own process (nodes are other machines): their answers do not queue on
  // the gateway's event loop, and their allocations are not the gateway's GC.
  const procs = new StandIns(port);
  const standIns = Array.from({ length: NODES }, (_, i) => new StandIn(`n${i + 1}`, `127.0.1.${i + 1}`, procs));
  // One loopback address per /24 (127.3.0.1, 127.3.1.1, ...): the gateway's default per-address and
  // per-network budgets see a few arrivals per address, as from real viewers' places.
  const places = Array.from({ length: PLACES }, (_, i) => ({ ip: `127.3.${i}.1`, lat: r() * 120 - 55, lon: r() * 360 - 180 }));
  const placeOf = new Map(places.map((p) => [p.ip, { lat: p.lat, lon: p.lon, country: 'ZZ' }]));
  const password = 'BenchViewer12345';
  const config = originConfigSchema.parse({
    role: 'origin',
    lat: 50.1,
    lon: 8.7,
    public: { host: '127.0.0.1', bind: '127.0.0.1' },
    relay: { maxChildren: 8 },
    health: { intervalMs: 1000, timeoutMs: 500, failuresToDown: 2, successesToUp: 2, freshMs: 0, redirectProbeTimeoutMs: 300 },
    // followDeadlineMs: no stand-in reports arrivals, so the default 20 s would teach the gateway that
    // this player never follows and serve it locally (503 here) for the rest of the run.
    gateway: { redirect: 'always', stickySec: 0, followDeadlineMs: 3_600_000 },
    nodes: standIns.map((s) => ({ name: s.name, lat: r() * 120 - 55, lon: r() * 360 - 180, rtsp: `rtsp://${s.host}:${port}`, capacity: 500, relayChildren: 5 })),
  });
  const events = new HavenEmitter();
  const stack = createOriginRouting({
    config,
    events,
    secrets: () => ({ viewerPassword: password }),
    locator: () => ({ name: 'bench', capabilities: { ipv6: false, updates: false }, locate: (ip) => placeOf.get(ip) }),
    rtspListen: { host: '127.0.0.1', port: 0 },
    hlsListen: false,
  });
  const byName = new Map(standIns.map((s) => [s.name, s]));
  const planner = createRelayPlanner({
    origin: () => ({ name: config.name, location: { lat: 50.1, lon: 8.7 }, relay: config.relay }),
    nodes: () => config.nodes.map((n) => ({ name: n.name, location: { lat: n.lat as number, lon: n.lon as number }, relayChildren: n.relayChildren })),
    up: (name) => {
      const node = stack.registry.get(name);
      return !!node && stack.health.state(node) === 'up';
    },
    originRelay: () => ({ host: '10.77.0.1', port: 8654 }),
    nodeRelayPort: () => 8554,
  });

  let toDead = 0;
  let diedDuring = 0;
  let routed = 0;
  const reparentMs: number[] = [];
  // Each decision, as the gateway makes it (classified at the end, with the stand-ins' own reports of
  // when each died): was the chosen node dead when the decision began?
  const decisions: Array<{ node: string; at: number; ms: number }> = [];
  events.on('viewer:routed', (ev) => {
    routed++;
    decisions.push({ node: ev.node, at: performance.now(), ms: ev.decisionMs });
  });
  try {
    for (const s of standIns) await s.up();
    for (const svc of stack.list) await svc.start();
    // Every node probed up before the arrivals begin.
    const t0 = performance.now();
    while (stack.registry.list().filter((n) => !n.origin && stack.health.state(n) === 'up').length < NODES) {
      if (performance.now() - t0 > 30_000) throw new Error('stand-ins were not all probed up within 30 s');
      await new Promise((res) => setTimeout(res, 100));
    }
    let tree = planner.plan();
    const before = { depth: treeDepth(tree), originChildren: tree.children.get(config.name)?.length ?? 0, unplaced: tree.unplaced.length };

    // 10% of the nodes flap: down 1.5-4 s, up 1.5-4 s, until the arrivals end.
    const flapping = standIns.slice(0, FLAPPING);
    let flapOn = true;
    const flaps = flapping.map(async (s) => {
      const fr = rng(Number(s.name.slice(1)));
      while (flapOn) {
        await new Promise((res) => setTimeout(res, 1500 + fr() * 2500));
        if (!flapOn) break;
        await s.down();
        await new Promise((res) => setTimeout(res, 1500 + fr() * 2500));
        await s.up();
      }
    });
    // Re-parenting: when health marks a node down, the tree moves its children at the next plan
    // (nodes ask every 2 s); measured from the moment the node died to a plan without it as parent.
    const replanTimer = setInterval(() => {
      const prev = tree;
      tree = planner.plan();
      for (const s of flapping) {
        if (s.alive || !(prev.children.get(s.name)?.length ?? 0)) continue;
        if (!(tree.children.get(s.name)?.length ?? 0) && !tree.parents.has(s.name)) reparentMs.push(performance.now() - (s.dead.at(-1)?.[0] ?? 0));
      }
    }, 100);
    // Where a decision's time goes: the fresh probe it waits on (timed around the health monitor's
    // ensureFresh), the event loop's delay (every decision step queues behind the batch's other work),
    // and GC pauses, over the arrivals only.
    const probeMs: number[] = [];
    const health = stack.health;
    const ensureFresh = health.ensureFresh.bind(health);
    health.ensureFresh = async (...a: Parameters<typeof ensureFresh>) => {
      const t = performance.now();
      try {
        return await ensureFresh(...a);
      } finally {
        probeMs.push(performance.now() - t);
      }
    };
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const gcPauses: number[] = [];
    const gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcPauses.push(e.duration);
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const gwPort = stack.rtspGateway.address()?.port ?? 0;
    const cpu0 = procCpuMs(process.pid, true);
    const standInCpu0 = procCpuMs(standIns[0]?.procs.pid);
    const probes0 = stack.probe.stats();
    const auth = `Basic ${Buffer.from(`viewer:${password}`).toString('base64')}`;
    const res = await runWorker<LoadParams, LoadResult>(import.meta.url, 'load', { port: gwPort, total: ARRIVALS, batch: BATCH, maxMs: MAX_MS, pauseMs: SPREAD_MS / (ARRIVALS / BATCH), auth, sources: places.map((p) => p.ip) });
    const loopCpuMs = procCpuMs(process.pid, true) - cpu0;
    const standInCpuMs = procCpuMs(standIns[0]?.procs.pid) - standInCpu0;
    const probes1 = stack.probe.stats();
    const answered = probes1.connects + probes1.reused - (probes0.connects + probes0.reused);
    loopDelay.disable();
    gcObserver.disconnect();
    flapOn = false;
    await Promise.all(flaps);
    clearInterval(replanTimer);
    for (const d of decisions) {
      const s = byName.get(d.node);
      if (!s) continue;
      // Dead before the decision began (the router should have known), or died while it was being
      // made, after answering the decision's own probe (no router can know that).
      if (s.deadAt(d.at - d.ms)) toDead++;
      else if (s.deadAt(d.at)) diedDuring++;
    }
    const rss = process.memoryUsage().rss;
    const stats = stack.router.stats();
    tree = planner.plan();
    console.log(`${NODES} stand-in nodes (${FLAPPING} flapping), ${res.redirected + res.other + res.errors} viewer arrivals in batches of ${BATCH} over ${(res.ms / 1000).toFixed(1)} s (${res.redirected} redirected, ${res.other} other answers, ${res.errors} errors)`);
    console.log(`viewers sent to a node dead at decision time: ${toDead} of ${routed} (goal 0) = ${((toDead / Math.max(1, routed)) * 100).toFixed(3)}%; to a node that died during the decision, after answering its probe: ${diedDuring}`);
    // Over every decision of the run: the router's own figure keeps the last 256 only (the last batch,
    // after the flapping stopped), which read 0.6 ms at p50 where the run's was several times that.
    const all = decisions.map((d) => d.ms);
    const decP99 = pct(all, 0.99);
    console.log(`decision p50 ${pct(all, 0.5).toFixed(3)} ms, p99 ${decP99.toFixed(3)} ms, max ${Math.max(0, ...all).toFixed(1)} ms (all ${all.length}; the router's last ${stats.decisionMs.count}: p50 ${stats.decisionMs.p50.toFixed(3)} ms, p99 ${stats.decisionMs.p99.toFixed(3)} ms); fresh probes before redirect: ${stats.probesBeforeRedirect}`);
    const k = stack.probe.stats();
    console.log(`probe connections: ${k.connects} connects for ${k.connects + k.reused} probes (${k.reused} over a kept connection, ${k.retried} asked again), ${(k.connects / (res.ms / 1000)).toFixed(1)} connects/s; probes per redirect ${(stats.probesBeforeRedirect / Math.max(1, res.redirected)).toFixed(2)}`);
    console.log(goalLine('decision p99', decP99, '<', 5, ' ms', 'at 200 nodes'));
    console.log(
      `  of which: fresh probe wait p50 ${pct(probeMs, 0.5).toFixed(2)} ms, p99 ${pct(probeMs, 0.99).toFixed(2)} ms (${probeMs.length}); ` +
        `event-loop delay p50 ${(loopDelay.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(2)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms; ` +
        `GC pauses ${gcPauses.length}, total ${gcPauses.reduce((a, b) => a + b, 0).toFixed(0)} ms, max ${Math.max(0, ...gcPauses).toFixed(1)} ms`,
    );
    // How busy the gateway's one event loop was: a decision cannot end before the work of the arrivals
    // read with it (their accept, parse and probe) and of the answers read before its own.
    const perArrival = (loopCpuMs * 1000) / Math.max(1, res.redirected + res.other + res.errors);
    console.log(`  gateway's event-loop thread: busy ${((loopCpuMs / res.ms) * 100).toFixed(0)}% of the arrivals' ${(res.ms / 1000).toFixed(0)} s, ${perArrival.toFixed(0)} µs per arrival (health rounds, flapping and the replanning every 100 ms included)`);
    // The stand-ins: 200 machines in reality, answering at once; here one process, one after another.
    const perProbe = (standInCpuMs * 1000) / Math.max(1, answered);
    console.log(`  stand-ins' process (the 200 nodes, one process here): CPU per probe answered ${perProbe.toFixed(0)} µs over ${answered} probes: a batch's ${BATCH} probes are ${((perProbe * BATCH) / 1000).toFixed(1)} ms of its one thread, which 200 machines would answer side by side`);
    console.log(`gateway process RSS ${(rss / 1048576).toFixed(0)} MiB (the stand-ins run in their own process)`);
    console.log(`relay tree, all up: depth ${before.depth} (goal <= ${config.relay.maxDepth}), origin children ${before.originChildren} of ${config.relay.maxChildren} (goal = budget), unplaced ${before.unplaced} (goal 0); at the end: depth ${treeDepth(tree)}, origin children ${tree.children.get(config.name)?.length ?? 0}`);
    console.log(
      reparentMs.length > 0
        ? `time to re-parent (parent died -> tree without it; + up to 2 s until its children ask): p50 ${median(reparentMs).toFixed(0)} ms, max ${Math.max(...reparentMs).toFixed(0)} ms over ${reparentMs.length} parent deaths (goal: within seconds)`
        : 'time to re-parent: no flapping node was a parent during the run',
    );
    const sel = selectorRatio();
    console.log(`selector at 1,000 nodes: ours ${(sel.ours / 1000).toFixed(1)} k/s, fair peer (distances once, partial top-5) ${(sel.peer / 1000).toFixed(1)} k/s`);
    console.log(goalLine('selector ratio', sel.ours / sel.peer, '>=', 1, 'x', 'fair peer'));
    if (res.redirected === 0) throw new Error('no viewer was redirected');
  } finally {
    for (const svc of [...stack.list].reverse()) await svc.stop();
    for (const s of standIns) if (s.alive) await s.down();
    await procs.stop();
  }
}

await mainOrWorker<LoadParams, unknown>('load', load, main);
