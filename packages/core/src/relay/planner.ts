import type { GeoPoint } from '../geo.js';
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
  /** Parent and the direct peers (parent node, child nodes) of a node. */
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

  const plan = (): RelayTree => {
    const o = deps.origin();
    const nodes = deps.nodes();
    last = assignParents({
      origin: { name: o.name, location: o.location, budget: originBudget(o.relay, bitrate) },
      nodes: nodes.map((n) => ({ name: n.name, location: n.location, up: deps.up(n.name), budget: health.budget(n.name, n.relayChildren) })),
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
