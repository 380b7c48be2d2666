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
  // An origin's exposure applies live (node credentials, viewer URLs); its gateway keeps the listeners
  // it started with until the next start, which `exposureChange` tells (status, doctor, the log).
  keys.delete('exposure');
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

/**
 * Bring the VPN's peers from `before` to `after` as one step: every change is planned first, then
 * made; when one fails (the VPN refuses an endpoint, say) the ones already made are undone in reverse,
 * so the peers are exactly as they were, and the error says which node failed.
 */
async function changePeers(vpn: Vpn, before: Map<string, NodeEntry>, after: Map<string, NodeEntry>, logger: Logger): Promise<void> {
  const steps: Array<{ node: string; run: () => Promise<unknown>; undo: () => Promise<unknown> }> = [];
  for (const [name, old] of before) {
    const now = after.get(name);
    const oldPeer = peerOf(old);
    if (oldPeer && (!now || now.publicKey !== old.publicKey)) {
      steps.push({ node: name, run: () => vpn.removePeer(oldPeer.publicKey), undo: () => vpn.addPeer(oldPeer) });
    }
  }
  for (const [name, now] of after) {
    const old = before.get(name);
    const peer = peerOf(now);
    const oldPeer = old ? peerOf(old) : undefined;
    if (!peer || JSON.stringify(oldPeer ?? null) === JSON.stringify(peer)) continue;
    const undo = oldPeer && oldPeer.publicKey === peer.publicKey ? () => vpn.addPeer(oldPeer) : () => vpn.removePeer(peer.publicKey);
    steps.push({ node: name, run: () => vpn.addPeer(peer), undo });
  }
  const done: typeof steps = [];
  for (const step of steps) {
    try {
      await step.run();
      done.push(step);
    } catch (err) {
      for (const d of done.reverse()) {
        await d.undo().catch((e: unknown) => logger.error({ err: e, node: d.node }, 'undoing a VPN peer change failed'));
      }
      throw new HavenError(`the VPN refused the change for node "${step.node}" (${(err as Error).message}); nothing was changed`, {
        code: 'CONFIG_INVALID',
        cause: err,
        details: { node: step.node },
      });
    }
  }
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
  if (vpn) await changePeers(vpn, before, after, logger);
  const change = registry ? registry.replace(nodes) : { added: [], removed: [], changed: [] };
  const needsRestart = restartKeys(current, cfg);
  if (needsRestart.length > 0) logger.warn({ keys: needsRestart }, 'these config changes take effect after a restart');
  return { ...change, needsRestart };
}
