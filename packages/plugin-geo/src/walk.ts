import type { GeoDatabase } from './database.js';
import { lookupProblem } from './problems.js';

/** A network the search tree holds, with its record (or why the record could not be read). */
export interface WalkedNetwork {
  /** `1.2.3.0/24` or `2001:db8::/32` (IPv4 networks of an IPv6 tree are shown as IPv4). */
  network: string;
  /** The network's first address, as text the reader accepts. */
  ip: string;
  record?: unknown;
  /** Set when the record is unreadable. */
  problem?: string;
}

export interface WalkIssue {
  network: string;
  problem: string;
}

export interface WalkReport {
  /** Networks with a data record (including unreadable ones). */
  networks: number;
  /** Distinct data records decoded. */
  records: number;
  /** Networks whose record could not be read. */
  failed: number;
  nodesVisited: number;
  /** Nodes reached a second time: aliases (`::ffff:0:0/96` -> IPv4 subtree) or a cycle in a corrupt tree. */
  revisits: number;
  /** At most 1000 issues are kept; `failed` and `structural` count them all. */
  issues: WalkIssue[];
  /** Damage in the search tree itself (records pointing nowhere, a tree deeper than the address, unreachable nodes). */
  structural: number;
  /** Nodes no path from the root reaches (only known after a complete walk): node_count does not match the tree. */
  unreachable: number;
  /** False when `maxNetworks` stopped the walk early. */
  complete: boolean;
}

export interface WalkOptions {
  /** Stop after this many networks (a bounded sample of a big database). Default: walk everything. */
  maxNetworks?: number;
  /** Called for each network that has a record. */
  onNetwork?: (n: WalkedNetwork) => void;
}

const MAX_ISSUES = 1000;

function formatNetwork(addr: bigint, prefix: number, ipVersion: 4 | 6): { network: string; ip: string } {
  if (ipVersion === 4) {
    const v = Number(addr);
    const ip = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    return { network: `${ip}/${prefix}`, ip };
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((addr >> BigInt(i * 16)) & 0xffffn).toString(16));
  const full = groups.join(':');
  if (prefix >= 96 && addr >> 32n === 0n) {
    const v = Number(addr & 0xffffffffn);
    const v4 = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    return { network: `${v4}/${prefix - 96}`, ip: full };
  }
  // Compress the longest run of zero groups for display.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const shown = best < 0 ? full : `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  return { network: `${shown}/${prefix}`, ip: full };
}

/**
 * Walk every network of a database's search tree, reading each data record once through the reader.
 * Bounded whatever the file holds: each node is visited at most once (so a cyclic tree ends), the
 * depth never exceeds the address length, and record offsets are checked before use. Never throws
 * for a damaged file: damage is reported in `issues`.
 */
export function walkNetworks(db: GeoDatabase, options: WalkOptions = {}): WalkReport {
  const { buffer, nodeCount, recordSize, searchTreeSize, dataSectionEnd, ipVersion } = db;
  const bits = ipVersion === 4 ? 32 : 128;
  const nodeBytes = recordSize / 4;
  const maxNetworks = options.maxNetworks ?? Number.POSITIVE_INFINITY;
  const visited = new Uint8Array(Math.ceil(nodeCount / 8));
  const decoded = new Map<number, { record?: unknown; problem?: string }>();
  const report: WalkReport = { networks: 0, records: 0, failed: 0, nodesVisited: 0, revisits: 0, issues: [], structural: 0, unreachable: 0, complete: true };
  const issue = (network: string, problem: string) => {
    if (report.issues.length < MAX_ISSUES) report.issues.push({ network, problem });
  };
  const read = (node: number, right: boolean): number => {
    const off = node * nodeBytes;
    if (recordSize === 24) return buffer.readUIntBE(right ? off + 3 : off, 3);
    if (recordSize === 32) return buffer.readUInt32BE(right ? off + 4 : off);
    return right ? ((buffer[off + 3]! & 0x0f) * 2 ** 24) + buffer.readUIntBE(off + 4, 3) : ((buffer[off + 3]! & 0xf0) * 2 ** 20) + buffer.readUIntBE(off, 3);
  };

  const stack: Array<[node: number, depth: number, addr: bigint]> = [[0, 0, 0n]];
  while (stack.length > 0) {
    const [node, depth, addr] = stack.pop()!;
    if (visited[node >> 3]! & (1 << (node & 7))) {
      report.revisits++;
      continue;
    }
    visited[node >> 3]! |= 1 << (node & 7);
    report.nodesVisited++;
    const children: Array<[number, number, bigint]> = [];
    for (const right of [false, true]) {
      const value = read(node, right);
      const childAddr = right ? addr | (1n << BigInt(bits - depth - 1)) : addr;
      const prefix = depth + 1;
      if (value < nodeCount) {
        if (prefix >= bits) {
          report.structural++;
          issue(formatNetwork(childAddr, prefix, ipVersion).network, `search tree continues past /${bits}: node ${value} at full depth`);
        } else children.push([value, prefix, childAddr]);
        continue;
      }
      if (value === nodeCount) continue; // no data for this network
      const { network, ip } = formatNetwork(childAddr, prefix, ipVersion);
      const offset = value - nodeCount - 16;
      if (offset < 0 || searchTreeSize + 16 + offset >= dataSectionEnd) {
        report.structural++;
        report.networks++;
        report.failed++;
        const problem = offset < 0 ? `record ${value} points into the data section separator` : `record ${value} points past the end of the data section`;
        issue(network, problem);
        options.onNetwork?.({ network, ip, problem });
      } else {
        let result = decoded.get(value);
        if (!result) {
          try {
            result = { record: db.get(ip) };
          } catch (err) {
            result = { problem: lookupProblem(err) };
          }
          decoded.set(value, result);
          report.records++;
        }
        report.networks++;
        if (result.problem) {
          report.failed++;
          issue(network, result.problem);
        }
        options.onNetwork?.({ network, ip, ...result });
      }
      if (report.networks >= maxNetworks) {
        report.complete = false;
        return report;
      }
    }
    // Left child on top, so networks come out in address order.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  // Writers emit compact trees: every node is reachable. Unreachable ones are damage a lookup never sees.
  report.unreachable = nodeCount - report.nodesVisited;
  if (report.unreachable > 0) {
    report.structural++;
    issue('(search tree)', `${report.unreachable} of ${nodeCount} nodes are unreachable from the root: node_count does not match the tree`);
  }
  return report;
}
