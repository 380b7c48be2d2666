import { haversineKm, isValidPoint, type GeoPoint } from '@haven/core';

/** One node as the tree sees it. */
export interface TreeNode {
  name: string;
  /** Unknown place: ranked after every known distance. */
  location?: GeoPoint | undefined;
  /** Relay children it may feed now (declared budget, after demotion). 0 = leaf only. */
  budget: number;
  /** Health says up. A node that is down is neither placed nor a parent. */
  up: boolean;
}

export interface TreeInput {
  origin: {
    name: string;
    location?: GeoPoint | undefined;
    /** Nodes the origin feeds directly; undefined = unlimited (every node pulls from the origin). */
    budget: number | undefined;
  };
  nodes: readonly TreeNode[];
  /** The last assignment: an edge that is still valid is kept, so a change moves only the nodes it must. */
  previous?: ReadonlyMap<string, string> | undefined;
  /** Longest chain from the origin; depth 1 = pulls from the origin. Default 3. */
  maxDepth?: number | undefined;
  /** A parent one level deeper must be this much nearer to be preferred, km. Default 1000. */
  depthPenaltyKm?: number | undefined;
}

export interface RelayTree {
  origin: string;
  /** child name -> parent name (the origin's name for depth 1). */
  parents: Map<string, string>;
  /** name -> depth (origin 0). */
  depth: Map<string, number>;
  /** parent name -> children names, sorted. */
  children: Map<string, string[]>;
  /** Up nodes no parent has budget for: they get no feed until one frees up. Sorted. */
  unplaced: string[];
}

export const DEFAULT_MAX_DEPTH = 3;
const DEFAULT_DEPTH_PENALTY_KM = 1000;

function distance(a: GeoPoint | undefined, b: GeoPoint | undefined): number {
  return isValidPoint(a) && isValidPoint(b) ? haversineKm(a, b) : Number.POSITIVE_INFINITY;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Assign every up node a parent: the origin while it has budget, else the nearest placed node with
 * spare relay budget (one level deeper costs `depthPenaltyKm`), never deeper than `maxDepth`.
 *
 * Loops are impossible by construction: a node only ever gets a parent that is already placed, and
 * placement starts at the origin, so every chain of parents ends at the origin. Still-valid edges of
 * `previous` are kept first (walked from the origin, so a loop in `previous` is never followed).
 * Pure and deterministic: the result does not depend on the order of `nodes`.
 */
export function assignParents(input: TreeInput): RelayTree {
  const maxDepth = Math.max(1, input.maxDepth ?? DEFAULT_MAX_DEPTH);
  const penalty = input.depthPenaltyKm ?? DEFAULT_DEPTH_PENALTY_KM;
  const origin = input.origin.name;
  const byNode = new Map<string, TreeNode>();
  for (const n of input.nodes) if (n.up && n.name !== origin && !byNode.has(n.name)) byNode.set(n.name, n);
  const names = [...byNode.keys()].sort(byName);

  const parents = new Map<string, string>();
  const depth = new Map<string, number>([[origin, 0]]);
  const spare = new Map<string, number>([[origin, input.origin.budget === undefined ? Number.POSITIVE_INFINITY : Math.max(0, input.origin.budget)]]);
  const place = (child: string, parent: string): void => {
    parents.set(child, parent);
    depth.set(child, (depth.get(parent) as number) + 1);
    spare.set(parent, (spare.get(parent) as number) - 1);
    spare.set(child, Math.max(0, Math.floor(byNode.get(child)?.budget ?? 0)));
  };

  // 1. Keep valid edges of the last tree, breadth-first from the origin.
  if (input.previous && input.previous.size > 0) {
    const kids = new Map<string, string[]>();
    for (const name of names) {
      const p = input.previous.get(name);
      if (p !== undefined && p !== name) kids.set(p, [...(kids.get(p) ?? []), name]);
    }
    const queue = [origin];
    for (let i = 0; i < queue.length; i++) {
      const p = queue[i] as string;
      if ((depth.get(p) as number) >= maxDepth) continue;
      for (const c of kids.get(p) ?? []) {
        if (parents.has(c) || (spare.get(p) as number) <= 0) continue;
        place(c, p);
        queue.push(c);
      }
    }
  }

  // 2. Place the rest, nearest to the origin first.
  const originAt = input.origin.location;
  const rest = names
    .filter((n) => !parents.has(n))
    .map((n) => ({ name: n, d: distance(byNode.get(n)?.location, originAt) }))
    .sort((a, b) => a.d - b.d || byName(a.name, b.name) || 0);
  const unplaced: string[] = [];
  for (const { name } of rest) {
    if ((spare.get(origin) as number) > 0) {
      place(name, origin);
      continue;
    }
    const at = byNode.get(name)?.location;
    let best: string | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    let bestDepth = Number.POSITIVE_INFINITY;
    for (const [p, d] of depth) {
      if (p === origin || d >= maxDepth || (spare.get(p) as number) <= 0) continue;
      const km = distance(at, byNode.get(p)?.location);
      const score = (Number.isFinite(km) ? km : 20_037) + penalty * d;
      if (score < bestScore || (score === bestScore && (d < bestDepth || (d === bestDepth && best !== undefined && byName(p, best) < 0)))) {
        best = p;
        bestScore = score;
        bestDepth = d;
      }
    }
    if (best === undefined) unplaced.push(name);
    else place(name, best);
  }

  const children = new Map<string, string[]>();
  for (const [c, p] of parents) children.set(p, [...(children.get(p) ?? []), c]);
  for (const list of children.values()) list.sort(byName);
  return { origin, parents, depth, children, unplaced: unplaced.sort(byName) };
}

/** Depth of the deepest placed node (0 when none). */
export function treeDepth(tree: RelayTree): number {
  let max = 0;
  for (const d of tree.depth.values()) max = Math.max(max, d);
  return max;
}

/** The origin's per-stream copy budget from `relay.maxChildren` and/or `relay.uplinkMbps` with the measured bitrate. */
export function originBudget(relay: { maxChildren?: number | undefined; uplinkMbps?: number | undefined }, bitrateBps: number | undefined): number | undefined {
  let budget = relay.maxChildren;
  if (relay.uplinkMbps !== undefined && bitrateBps !== undefined && bitrateBps > 0) {
    // Keep a fifth of the uplink for the gateway's own viewers, the control traffic and bursts.
    const copies = Math.max(1, Math.floor((relay.uplinkMbps * 1e6 * 0.8) / bitrateBps));
    budget = budget === undefined ? copies : Math.min(budget, copies);
  }
  return budget;
}
