import type { GeoPoint } from '@haven/core';
import { createRelayHealth, type Demotion, type RelayHealth, type RelaySample } from './demote.js';
import { assignParents, originBudget, treeDepth, type RelayTree } from './tree.js';

/** One relay node as the planner reads it (from the origin's config entry and registry). */
export interface PlannerNode {
  name: string;
  location?: GeoPoint | undefined;
  /** Declared relay budget (`nodes[].relayChildren`). */
  relayChildren: number;
  /** Its address inside the VPN: where its children pull from. */
  vpnAddress?: string | undefined;
  /** Its WireGuard key: parent and children peer with each other directly. */
  publicKey?: string | undefined;
  /** Where its WireGuard listens (children dial their parent). */
  endpoint?: string | undefined;
}

/** A direct WireGuard peer a node adds for its parent or a child (the origin stays its own peer). */
export interface RelayPeer {
  name: string;
  publicKey: string;
  allowedIps: string[];
  endpoint?: string;
}

/** What a node is told over the VPN: where to pull from, and the relay peers to have. */
export interface RelayAssignment {
  /** null: no parent has room now; the node keeps its last source. */
  parent: RelayParent | null;
  peers: RelayPeer[];
}

export interface RelayPlannerDeps {
  origin: () => { name: string; location?: GeoPoint | undefined; relay: { maxChildren?: number | undefined; uplinkMbps?: number | undefined; maxDepth: number } };
  nodes: () => readonly PlannerNode[];
  /** Health says the node is up (a node never probed counts as down). */
  up: (name: string) => boolean;
  /**
   * The node's last probe failed before any RTSP answer (connection refused, no route): it is gone,
   * whether or not it asked for its place a moment ago. Default: never.
   */
  gone?: (name: string) => boolean;
  /**
   * How long a node that asked for its place (`assignmentOf`, `GET /api/relay` every 2 s) stays in the
   * tree while its probes fail otherwise, ms. Default 4000. See `alive` below.
   */
  askAliveMs?: number;
  /** Where nodes pull from the origin over the VPN. */
  originRelay: () => { host: string; port: number };
  /** A node's RTSP port, where its children pull from on its VPN address. */
  nodeRelayPort: (name: string) => number;
  health?: RelayHealth;
  clock?: () => number;
}

/** Where a node pulls from: its parent's relay listener over the VPN. */
export interface RelayParent {
  parent: string;
  origin: boolean;
  host: string;
  port: number;
  depth: number;
}

export interface RelayEdgeView {
  node: string;
  parent: string;
  depth: number;
  /** What the node receives, bit/s, from its last two reports (absent until known). */
  bitrateBps?: number;
}

export interface RelayTreeView {
  origin: string;
  /** The origin's budget now; null = unlimited. */
  originBudget: number | null;
  /** The stream bitrate the budget was computed with (the origin's ingest), bit/s. */
  bitrateBps?: number;
  depth: number;
  originChildren: number;
  edges: RelayEdgeView[];
  unplaced: string[];
  demoted: Demotion[];
}

export interface RelayPlanner {
  /** Recompute the tree (keeping still-valid edges of the last one) and return it. */
  plan(): RelayTree;
  /** A node's parent now; undefined when it is unplaced or unknown. */
  parentOf(node: string): RelayParent | undefined;
  /** Parent and the direct peers (parent node, child nodes) of a node; the node asking counts as alive (see `askAliveMs`). */
  assignmentOf(node: string): RelayAssignment;
  /** Relay children a node feeds now (routing counts them against its capacity). */
  childrenOf(node: string): number;
  /** A node's report for a stream (cumulative counters) and the origin's ingest counter. */
  observe(node: string, sample: RelaySample): void;
  /** The origin's ingest counter (bytes received from the publisher), to measure the stream's bitrate. */
  observeOrigin(at: number, bytesIn: number): void;
  view(): RelayTreeView;
}

/** The origin's relay tree over its registry, health and node reports. */
export function createRelayPlanner(deps: RelayPlannerDeps): RelayPlanner {
  const health = deps.health ?? createRelayHealth(deps.clock ? { clock: deps.clock } : {});
  let last: RelayTree | undefined;
  const inRate = new Map<string, number>();
  const lastSample = new Map<string, RelaySample>();
  let originSample: { at: number; bytesIn: number } | undefined;
  let bitrate: number | undefined;

  const clock = deps.clock ?? Date.now;
  const askAliveMs = deps.askAliveMs ?? 4000;
  /** When each node last asked for its place. */
  const asked = new Map<string, number>();
  /**
   * Whether a node is in the tree: health says up, or it asked for its place within `askAliveMs` and
   * its last probe did not fail at the connection. Why the second: a node whose parent died shows
   * MediaMTX's offline segment and refuses new reads, the origin's probe included; MediaMTX answers
   * each refusal after a 0-4 s pause and closes the connection, so the probe never counts the node as
   * answering and health calls it down. Taken out of the
   * tree it would get no parent, keep pulling from the dead one, never get the stream back, and so
   * refuse every later probe too. A node that keeps asking is alive; one that stops is dropped after
   * `askAliveMs`, and one refusing connections at once.
   */
  const alive = (name: string): boolean => {
    if (deps.up(name)) return true;
    const at = asked.get(name);
    return at !== undefined && clock() - at <= askAliveMs && !(deps.gone?.(name) ?? false);
  };

  const plan = (): RelayTree => {
    const o = deps.origin();
    const nodes = deps.nodes();
    last = assignParents({
      origin: { name: o.name, location: o.location, budget: originBudget(o.relay, bitrate) },
      nodes: nodes.map((n) => ({ name: n.name, location: n.location, up: alive(n.name), budget: health.budget(n.name, n.relayChildren) })),
      previous: last?.parents,
      maxDepth: o.relay.maxDepth,
    });
    return last;
  };

  const planner: RelayPlanner = {
    plan,
    parentOf(node) {
      const tree = plan();
      const parent = tree.parents.get(node);
      if (parent === undefined) return undefined;
      const depth = tree.depth.get(node) as number;
      if (parent === tree.origin) return { parent, origin: true, ...deps.originRelay(), depth };
      const entry = deps.nodes().find((n) => n.name === parent);
      if (!entry?.vpnAddress) return { parent: tree.origin, origin: true, ...deps.originRelay(), depth: 1 };
      return { parent, origin: false, host: entry.vpnAddress, port: deps.nodeRelayPort(parent), depth };
    },
    assignmentOf(node) {
      asked.set(node, clock());
      if (asked.size > 10_000) asked.delete(asked.keys().next().value as string);
      const parent = planner.parentOf(node);
      const tree = last as RelayTree;
      const byName = new Map(deps.nodes().map((n) => [n.name, n]));
      const peers: RelayPeer[] = [];
      const peerOf = (name: string): void => {
        const n = byName.get(name);
        if (!n?.publicKey || !n.vpnAddress) return;
        peers.push({ name, publicKey: n.publicKey, allowedIps: [`${n.vpnAddress}/32`], ...(n.endpoint ? { endpoint: n.endpoint } : {}) });
      };
      if (parent && !parent.origin) peerOf(parent.parent);
      for (const c of tree.children.get(node) ?? []) peerOf(c);
      return { parent: parent ?? null, peers };
    },
    childrenOf(node) {
      return (last ?? plan()).children.get(node)?.length ?? 0;
    },
    observe(node, sample) {
      const prev = lastSample.get(node);
      lastSample.set(node, sample);
      if (prev && sample.at > prev.at && sample.bytesIn >= prev.bytesIn) inRate.set(node, ((sample.bytesIn - prev.bytesIn) * 8 * 1000) / (sample.at - prev.at));
      health.observe(node, sample, bitrate, ((last ?? plan()).children.get(node)?.length ?? 0) > 0);
    },
    observeOrigin(at, bytesIn) {
      if (originSample && at > originSample.at && bytesIn >= originSample.bytesIn) {
        const bps = ((bytesIn - originSample.bytesIn) * 8 * 1000) / (at - originSample.at);
        if (bps > 0) bitrate = bps;
      }
      originSample = { at, bytesIn };
    },
    view() {
      const tree = plan();
      const o = deps.origin();
      const budget = originBudget(o.relay, bitrate);
      const edges: RelayEdgeView[] = [...tree.parents]
        .map(([node, parent]) => {
          const e: RelayEdgeView = { node, parent, depth: tree.depth.get(node) as number };
          const bps = inRate.get(node);
          if (bps !== undefined) e.bitrateBps = Math.round(bps);
          return e;
        })
        .sort((a, b) => a.depth - b.depth || (a.node < b.node ? -1 : 1));
      const v: RelayTreeView = {
        origin: tree.origin,
        originBudget: budget ?? null,
        depth: treeDepth(tree),
        originChildren: tree.children.get(tree.origin)?.length ?? 0,
        edges,
        unplaced: tree.unplaced,
        demoted: health.demotions(),
      };
      if (bitrate !== undefined) v.bitrateBps = Math.round(bitrate);
      return v;
    },
  };
  return planner;
}
