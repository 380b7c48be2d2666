import { matchesVerifier, nodeOfCredential, type Haven, type OriginConfig, type RoutingStateFollower } from '@haven/core';
import { type NodeReport } from '@haven/control';

/** The media server's relay check, where the plugin offers one (the MediaMTX plugin does). */
type RelayCheckable = { setRelayCheck?: (check: ((password: string) => boolean | undefined) | undefined) => void };

export interface OriginTrust {
  /** A node's public token key as its latest report gave it (for the routing state). */
  tokenKey(node: string): string | undefined;
  /** Take what an authenticated report says about its node. */
  onReport(report: NodeReport): void;
  stop(): void;
}

/**
 * What the origin trusts of its nodes, always from its current config: a node's token key (from its
 * reports) while it is in the registry, and relay pulls with a current node's own credential (never the
 * relay password itself). A node removed from the config loses both at the next request.
 */
export function startOriginTrust(haven: Haven): OriginTrust {
  const keys = new Map<string, string>();
  const nodes = () => (haven.config as OriginConfig).nodes;
  const registry = () => haven.services.registry;
  haven.tokenKey().acceptFrom(() => nodes().map((n) => (registry()?.get(n.name) ? keys.get(n.name) : undefined)));
  (haven.provided.mediaServer as RelayCheckable | undefined)?.setRelayCheck?.((password) => nodeOfCredential(haven.secrets().relayPassword, nodes(), password) !== undefined);
  const onRemoved = ({ name }: { name: string }) => void keys.delete(name);
  haven.events.on('node:removed', onRemoved);
  return {
    tokenKey: (node) => (registry()?.get(node) ? keys.get(node) : undefined),
    onReport(report) {
      if (report.tokenKey && nodes().some((n) => n.name === report.node)) keys.set(report.node, report.tokenKey);
    },
    stop() {
      haven.events.off('node:removed', onRemoved);
      (haven.provided.mediaServer as RelayCheckable | undefined)?.setRelayCheck?.(undefined);
    },
  };
}

/**
 * What an entry node trusts, always from the origin's current routing state: viewer tokens signed by
 * the origin or by a node of the state (its own key always), and relay pulls by a node of the state
 * (its pull credential's verifier). Without a state, no other gateway's token and no pull is taken.
 */
export function startEntryTrust(haven: Haven, follower: RoutingStateFollower): { stop(): void } {
  haven.tokenKey().acceptFrom(() => {
    const s = follower.state();
    return s ? [s.originTokenKey, ...s.nodes.map((n) => n.tokenKey)] : [];
  });
  const media = haven.provided.mediaServer as RelayCheckable | undefined;
  media?.setRelayCheck?.((password) => {
    const s = follower.state();
    return s !== undefined && matchesVerifier(password, s.nodes.map((n) => n.relayVerifier));
  });
  return {
    stop() {
      haven.tokenKey().acceptFrom(() => []);
      media?.setRelayCheck?.(undefined);
    },
  };
}
