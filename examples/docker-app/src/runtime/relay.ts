import { type Haven, type OriginConfig, urlHostPort } from '@haven/core';
import { createRelayPlanner, type NodeReport, type RelayAssignment, type RelayPlanner, type RelayTreeView } from '@haven/control';
import { connect } from 'node:net';
import type { Loaded } from '../home/loaded.js';
import { settingsOf } from '../home/derived.js';
import type { JoinState } from '../home/join-state.js';

/** Probe failures that happen before any RTSP answer (see probe-rtsp.ts: the socket error's code). */
const CONNECTION_FAILED = /\b(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EHOSTDOWN)\b/;

/** How often the origin samples its ingest bitrate (for `relay.uplinkMbps`). */
const SAMPLE_MS = 5000;

/** The origin's relay tree over its live config, registry, health and node reports. */
export function createOriginRelay(haven: Haven, l: Loaded): { planner: RelayPlanner; onReport(report: NodeReport): void; stop(): void } {
  const cfg = () => haven.config as OriginConfig;
  const planner = createRelayPlanner({
    origin: () => ({ name: cfg().name, location: haven.services.registry?.origin()?.location, relay: cfg().relay }),
    nodes: () =>
      cfg().nodes.map((n) => {
        // A node's WireGuard listens on the same port as the origin's unless its entry names an endpoint.
        const host = urlHostPort(n.rtsp, 8554).host;
        const endpoint = n.endpoint ?? `${host.includes(':') ? `[${host}]` : host}:${settingsOf(l.loaded).vpn.listenPort}`;
        return { name: n.name, location: haven.services.registry?.get(n.name)?.location, relayChildren: n.relayChildren, vpnAddress: n.vpnAddress, publicKey: n.publicKey, endpoint };
      }),
    // In the tree a node counts while it answers: a child whose parent died has no stream for a
    // moment (health says down) but must get a new parent; a node that does not answer is out.
    up: (name) => {
      const { registry, health } = haven.services;
      const node = registry?.get(name);
      if (!node || !health) return false;
      if (health.state(node) === 'up') return true;
      return cfg().streams.some((s) => health.last(node, s.name)?.result.up === true);
    },
    // A probe refused at the connection (no RTSP answer at all): the node is gone, even if it asked
    // for its place a moment ago. A timeout is not: a node showing the offline segment refuses the
    // probe after MediaMTX's 0-4 s pause, and keeps its place while it keeps asking (planner.ts).
    gone: (name) => {
      const { registry, health } = haven.services;
      const node = registry?.get(name);
      if (!node || !health) return false;
      return cfg().streams.some((s) => {
        const r = health.last(node, s.name)?.result;
        return r !== undefined && !r.up && CONNECTION_FAILED.test(r.reason ?? '');
      });
    },
    originRelay: () => settingsOf(l.loaded).relay,
    nodeRelayPort: (name) => urlHostPort(cfg().nodes.find((n) => n.name === name)?.rtsp ?? 'rtsp://x:8554', 8554).port,
  });
  const stream = () => cfg().streams[0]?.name;
  const timer = setInterval(() => {
    const name = stream();
    const media = haven.provided.mediaServer;
    if (!name || !media) return;
    void media
      .stats(name)
      .then((s) => planner.observeOrigin(Date.now(), s.bytesIn))
      .catch(() => undefined);
  }, SAMPLE_MS);
  timer.unref();
  // A relay parent whose background probe failed is probed again at once (and taken down if that fails
  // too), so its children move now rather than after `failuresToDown` probe intervals.
  // A child reporting no stream while its parent node looks up makes the same check of that parent.
  const rechecking = new Set<string>();
  const recheckParent = (name: string) => {
    const { registry, health } = haven.services;
    const node = registry?.get(name);
    const s = stream();
    if (!node || !health || !s || rechecking.has(name)) return;
    if (health.state(node) !== 'up' || planner.childrenOf(name) === 0) return;
    rechecking.add(name);
    // After the probe that reported this has settled (probes are single-flight per node and stream).
    setImmediate(() => {
      void health
        .recheck(node, s)
        .then((ok) => (ok ? undefined : planner.plan()))
        .catch(() => undefined)
        .finally(() => rechecking.delete(name));
    });
  };
  const onProbed = ({ node: name, result }: { node: string; result: { up: boolean; ready: boolean } }) => {
    if (!(result.up && result.ready)) recheckParent(name);
  };
  haven.events.on('health:probed', onProbed);
  return {
    planner,
    onReport(report) {
      const s = report.streams.find((x) => x.name === stream()) ?? report.streams[0];
      if (!s) return;
      planner.observe(report.node, { at: Date.now(), ready: s.ready, readers: s.readers, bytesIn: s.bytesIn, bytesOut: s.bytesOut });
      // A node that has the stream again (re-parented) while health still calls it down (its probes were
      // refused during the offline segment) is probed now: entries route to it again at once, not after
      // the next probe round.
      const { registry, health } = haven.services;
      const node = registry?.get(report.node);
      const name = stream();
      if (s.ready && node && health && name && health.state(node) !== 'up') void health.probeNow(node, name).catch(() => undefined);
      const parent = planner.parentOf(report.node);
      if (!s.ready && parent && !parent.origin) recheckParent(parent.parent);
    },
    stop: () => {
      clearInterval(timer);
      haven.events.off('health:probed', onProbed);
    },
  };
}

/** `up/<stream>` receiving nothing this long makes a node check its parent (25 fps video sends every 40 ms). */
const SILENT_MS = 600;
/** A parent that does not accept a TCP connection on its relay port within this is taken for dead. */
const PARENT_CONNECT_MS = 500;
/** While its parent is dead, a node asks for its place this often (else every 2 s), for at most `RESCUE_MS`. */
const RESCUE_ASK_MS = 250;
const RESCUE_MS = 15_000;

/** Whether `host:port` accepts a TCP connection within `ms`. */
function accepts(host: string, port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(ms, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

interface NodeMedia {
  setUpstream?: (u: { host: string; port: number } | undefined) => Promise<void>;
  upstreamBytes?: () => Promise<Map<string, number>>;
  dropUpstreamReads?: () => Promise<number>;
}

/**
 * A node follows its place in the relay tree: it peers directly (WireGuard) with its parent node and
 * its children, and its media server pulls from the parent. Peers it no longer needs are removed; the
 * origin's own peer is never touched.
 *
 * `watch()` (called every few hundred ms) notices a parent node that died: `up/<stream>` stops receiving or
 * loses its source, and the parent's relay port does not accept a connection. MediaMTX would notice only after its
 * `readTimeout`, and the origin at its next probe round. The node then cuts its viewers off the dead
 * parent at once (`dropUpstreamReads`: they get the offline segment), reports (its stream is not ready now, so the origin rechecks the
 * parent at once and moves its children), and asks for its place every 250 ms until it has a new parent.
 */
export function createRelayFollower(haven: Haven, join: JoinState, o: { reportNow?: () => Promise<unknown> } = {}): { follow(): Promise<void>; watch(): Promise<void> } {
  const added = new Set<string>();
  let upstream = '';
  /** The parent node pulled from now (undefined: the origin, or none yet). */
  let parentNode: { name: string; host: string; port: number } | undefined;
  let bytes = new Map<string, number>();
  let changedAt = Date.now();
  let rescuing = false;
  let inflight: Promise<void> | undefined;
  const log = haven.logger.child({ area: 'relay' });
  const media = () => haven.provided.mediaServer as NodeMedia | undefined;

  async function followOnce(): Promise<void> {
    let a: RelayAssignment;
    try {
      const res = await fetch(new URL('/api/relay', join.reportUrl), {
        headers: { authorization: `Bearer ${haven.secrets().relayPassword}` },
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) return; // an origin without a tree (501) or not reachable now
      a = (await res.json()) as RelayAssignment;
    } catch {
      return;
    }
    const vpn = haven.provided.vpn;
    if (vpn) {
      const want = new Map(a.peers.filter((p) => p.publicKey !== join.origin.publicKey).map((p) => [p.publicKey, p]));
      for (const p of want.values()) {
        if (added.has(p.publicKey)) continue;
        await vpn.addPeer({ publicKey: p.publicKey, allowedIps: p.allowedIps, name: p.name, ...(p.endpoint ? { endpoint: p.endpoint } : {}), persistentKeepaliveSec: 10 });
        added.add(p.publicKey);
        log.info({ peer: p.name }, 'relay peer added');
      }
      for (const key of [...added]) {
        if (want.has(key)) continue;
        await vpn.removePeer(key).catch(() => false);
        added.delete(key);
      }
    }
    if (!a.parent) return; // no room anywhere now: keep the last source
    const m = media();
    const key = `${a.parent.host}:${a.parent.port}`;
    if (key === upstream || !m?.setUpstream) return;
    await m.setUpstream(a.parent.origin ? undefined : { host: a.parent.host, port: a.parent.port });
    log.info({ parent: a.parent.parent, depth: a.parent.depth }, 'pulling the stream from a new relay parent');
    upstream = key;
    parentNode = a.parent.origin ? undefined : { name: a.parent.parent, host: a.parent.host, port: a.parent.port };
    bytes = new Map();
    changedAt = Date.now();
  }

  /** One ask at a time (the timer and a rescue both ask). */
  const follow = (): Promise<void> => {
    inflight ??= followOnce().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };

  /** After a re-parent: report as soon as the stream is back, so the origin probes this node up now (see `onReport`). */
  async function reportWhenBack(until: number): Promise<void> {
    const m = haven.provided.mediaServer;
    const streams = haven.config.streams.map((s) => s.name);
    while (m && Date.now() < until) {
      if ((await Promise.all(streams.map((s) => m.stats(s).then((x) => x.ready, () => false)))).every(Boolean)) {
        await o.reportNow?.();
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function watch(): Promise<void> {
    const m = media();
    const parent = parentNode;
    if (!parent || rescuing || !m?.upstreamBytes) return;
    const now = await m.upstreamBytes().catch(() => undefined);
    if (!now) return;
    // `up/<stream>` stopped carrying the stream (its connection to the parent closed): check the parent at once.
    const lost = bytes.size > 0 && now.size === 0;
    const grew = [...now].some(([k, v]) => v !== bytes.get(k));
    bytes = now;
    if (!lost && (grew || now.size === 0)) {
      changedAt = Date.now();
      return;
    }
    if (!lost && Date.now() - changedAt < SILENT_MS) return;
    rescuing = true;
    let dropped = false;
    try {
      // A live parent with a pause in its stream (the streamer's encoder) still accepts connections.
      if (await accepts(parent.host, parent.port, PARENT_CONNECT_MS)) return;
      log.warn({ parent: parent.name }, 'the relay parent went silent and does not accept connections: asking the origin for another');
      dropped = (await m.dropUpstreamReads?.().catch(() => 0)) !== undefined;
      // The viewer path shows the offline segment now: this report says the stream is not ready.
      await new Promise((r) => setTimeout(r, 150));
      void o.reportNow?.();
      const until = Date.now() + RESCUE_MS;
      while (parentNode === parent && Date.now() < until) {
        await follow();
        if (parentNode === parent) await new Promise((r) => setTimeout(r, RESCUE_ASK_MS));
      }
      if (parentNode !== parent) void reportWhenBack(until);
    } finally {
      // No new parent within the rescue: feed the viewers from this one again when it comes back.
      if (dropped && parentNode === parent) await m.setUpstream?.({ host: parent.host, port: parent.port }).catch(() => undefined);
      rescuing = false;
      changedAt = Date.now();
    }
  }

  return { follow, watch };
}

/** `haven status`: the relay tree as an indented list, each node with what it receives. */
export function formatRelayTree(v: RelayTreeView): string[] {
  const mbps = (bps: number | undefined) => (bps === undefined ? '' : ` ${(bps / 1e6).toFixed(1)} Mbit/s`);
  const kids = new Map<string, RelayTreeView['edges']>();
  for (const e of v.edges) kids.set(e.parent, [...(kids.get(e.parent) ?? []), e]);
  const budget = v.originBudget === null ? 'no limit' : `feeds ${v.originChildren} of ${v.originBudget}`;
  const out = [`relay tree (depth ${v.depth}; origin ${budget}${v.bitrateBps !== undefined ? `; stream${mbps(v.bitrateBps)}` : ''}):`, `  ${v.origin} (origin)`];
  const walk = (parent: string, indent: string, depth: number): void => {
    if (depth > 16) return;
    for (const e of kids.get(parent) ?? []) {
      out.push(`${indent}└ ${e.node}${mbps(e.bitrateBps)}`);
      walk(e.node, `${indent}  `, depth + 1);
    }
  };
  walk(v.origin, '    ', 1);
  if (v.unplaced.length > 0) out.push(`  waiting for a parent with room: ${v.unplaced.join(', ')}`);
  for (const d of v.demoted) out.push(`  demoted (feeds nobody for now): ${d.node}: ${d.reason}`);
  return out;
}
