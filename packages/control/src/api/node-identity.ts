import { type HavenNode, normalizeIp } from '@haven/core';
import { ApiError } from './http.js';

/**
 * Which node sent a report: the one whose VPN address the request came from, never the name in the
 * body alone. A report naming another node than its sender is refused (403); a sender on no node's
 * VPN address is refused when the named node has one (403). A node without a VPN address (a Haven
 * run without WireGuard, e.g. on one machine) is taken by name, as the report token already proves
 * it is one of the Haven's nodes; so is a sender on loopback (a process on the origin's own machine).
 * A request that proved its node already (its own credential: the caller passes `proven`) needs no more.
 */
export function reportingNode(
  nodes: readonly HavenNode[],
  claimed: string,
  remoteAddress: string | undefined,
  /** The node the request already proved to be (its VPN address on the report listener, or its own credential). */
  proven?: string,
): HavenNode {
  const relays = nodes.filter((n) => !n.origin);
  const named = relays.find((n) => n.name === claimed);
  if (!named) throw new ApiError(404, 'NODE_UNKNOWN', `no relay node named "${claimed}"`);
  if (proven === claimed) return named;
  const from = normalizeIp(remoteAddress);
  const sender = relays.find((n) => n.vpnAddress !== undefined && normalizeIp(n.vpnAddress) === from);
  if (sender && sender !== named) {
    throw new ApiError(403, 'NODE_MISMATCH', `node "${sender.name}" sent a report for "${claimed}": a node reports only for itself`);
  }
  const loopback = /^127\./.test(from) || from === '::1';
  if (!sender && named.vpnAddress !== undefined && !loopback) {
    throw new ApiError(403, 'NODE_MISMATCH', `a report for "${claimed}" must come from its VPN address`);
  }
  return named;
}
