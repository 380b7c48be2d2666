import type { HavenNode, Vpn } from './contracts.js';
import type { LoadedConfig } from './config/load.js';
import type { HavenConfig, NodeEntry, OriginConfig } from './config/schema.js';
import { HavenError } from './errors.js';
import type { Logger } from './logger.js';
import { nodesFromConfig } from './routing/nodes.js';
import type { NodeRegistry, RegistryChange } from './routing/registry.js';

/** Config parts that a running Haven cannot change without a restart (ports, listeners, plugins). */
function restartKeys(a: HavenConfig, b: HavenConfig): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete('nodes');
  return [...keys].filter((k) => JSON.stringify((a as Record<string, unknown>)[k]) !== JSON.stringify((b as Record<string, unknown>)[k]));
}

function peerOf(entry: NodeEntry): Parameters<Vpn['addPeer']>[0] | undefined {
  if (!entry.publicKey) return undefined;
  return {
    publicKey: entry.publicKey,
    name: entry.name,
    allowedIps: entry.vpnAddress ? [`${entry.vpnAddress}/32`] : [],
    ...(entry.endpoint ? { endpoint: entry.endpoint } : {}),
  };
}

export interface LiveApplyResult extends RegistryChange {
  /** Top-level keys that changed but only take effect after a restart. */
  needsRestart: string[];
}

/**
 * Apply a new origin config to a running Haven: the VPN gets exactly the new peers (one peer at a
 * time, never touching the others), and the registry the new nodes, so new viewers see them while
 * current viewers keep playing. Nothing is applied when the role or the origin's name changed.
 */
export async function applyNodeChanges(input: {
  current: HavenConfig;
  next: LoadedConfig;
  registry?: NodeRegistry;
  vpn?: Vpn;
  logger: Logger;
}): Promise<LiveApplyResult> {
  const { current, next, registry, vpn, logger } = input;
  const cfg = next.config;
  if (cfg.role !== current.role) {
    throw new HavenError(`the config's role changed from ${current.role} to ${cfg.role}: restart the Haven to change roles`, { code: 'CONFIG_INVALID' });
  }
  if (cfg.role !== 'origin' || current.role !== 'origin') {
    return { added: [], removed: [], changed: [], needsRestart: restartKeys(current, cfg) };
  }
  if (cfg.name !== current.name) {
    throw new HavenError(`the origin's name changed from ${current.name} to ${cfg.name}: restart the Haven to rename it`, { code: 'CONFIG_INVALID' });
  }
  const before = new Map(current.nodes.map((n) => [n.name, n]));
  const after = new Map((cfg as OriginConfig).nodes.map((n) => [n.name, n]));
  // Build the new node list first: a bad entry throws here, before anything changes.
  const nodes: HavenNode[] = nodesFromConfig(cfg);
  if (vpn) {
    for (const [name, old] of before) {
      const now = after.get(name);
      if (old.publicKey && (!now || now.publicKey !== old.publicKey)) await vpn.removePeer(old.publicKey);
    }
    for (const [name, now] of after) {
      const old = before.get(name);
      const peer = peerOf(now);
      if (peer && JSON.stringify(peerOf(old ?? ({} as NodeEntry))) !== JSON.stringify(peer)) await vpn.addPeer(peer);
    }
  }
  const change = registry ? registry.replace(nodes) : { added: [], removed: [], changed: [] };
  const needsRestart = restartKeys(current, cfg);
  if (needsRestart.length > 0) logger.warn({ keys: needsRestart }, 'these config changes take effect after a restart');
  return { ...change, needsRestart };
}
