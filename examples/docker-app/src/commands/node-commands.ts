import { HavenError, SecretStore, type OriginConfig } from '@haven/core';
import { JOIN_BUNDLE_WARNING } from '@haven/plugin-wireguard';
import { ApiClient } from '../runtime/client.js';
import { makeJoinBundle } from '../node/join.js';
import { print, printJson, progress, table } from '../runtime/output.js';
import { warnPublicHost } from '../home/public-host.js';
import type { Loaded } from '../home/loaded.js';

function originOf(l: Loaded, what: string): OriginConfig {
  if (l.loaded.config.role !== 'origin') {
    throw new HavenError(`\`${what}\` runs on the origin, but ${l.loaded.file} has role ${l.loaded.config.role}`, { code: 'CONFIG_INVALID' });
  }
  return l.loaded.config;
}

/** Print a node's join bundle (it holds passwords: stdout only, with the warning on stderr). */
export async function printBundle(l: Loaded, name: string, json: boolean): Promise<void> {
  const cfg = originOf(l, 'haven node bundle');
  const node = cfg.nodes.find((n) => n.name === name);
  if (!node) {
    const known = cfg.nodes.map((n) => n.name);
    throw new HavenError(`no node named "${name}" in ${l.loaded.file}${known.length ? ` (nodes: ${known.join(', ')})` : ' (it has no nodes yet: `haven node add <share-code>`)'}`, { code: 'NODE_UNKNOWN' });
  }
  const secrets = (await SecretStore.open(l.loaded.stateDir)).get();
  const bundle = await makeJoinBundle(l.loaded, node, secrets);
  warnPublicHost(cfg.public.host, 'the join bundle and viewer URLs');
  process.stderr.write(`\n! ${JOIN_BUNDLE_WARNING}\n\n`);
  if (json) printJson({ node: node.name, vpnAddress: node.vpnAddress, bundle });
  else {
    progress(`on the node "${node.name}", run:  haven node join '<the bundle below>'`);
    print(bundle);
  }
}

interface StatusNode {
  name: string;
  origin: boolean;
  health: string;
  viewers: number;
}

/** The nodes of haven.yaml, with health and viewers when the origin runs. */
export async function listNodes(l: Loaded, json: boolean): Promise<void> {
  const cfg = originOf(l, 'haven node list');
  const api = await ApiClient.for(l);
  const live = (await api.reachable()) ? (await api.call<{ nodes: StatusNode[] }>('GET', '/api/status')).nodes : undefined;
  const rows = cfg.nodes.map((n) => {
    const s = live?.find((x) => x.name === n.name);
    return { name: n.name, region: n.region ?? '', vpnAddress: n.vpnAddress ?? '', rtsp: n.rtsp, capacity: n.capacity ?? 0, ...(s ? { health: s.health, viewers: s.viewers } : {}) };
  });
  if (json) return printJson({ running: !!live, nodes: rows });
  if (rows.length === 0) {
    print('no nodes yet: a friend runs `haven node keygen --region <region> --public-host <their ip>` and sends you the share code; then `haven node add <share-code>`');
    return;
  }
  const head = ['node', 'region', 'vpn address', 'rtsp', 'capacity', ...(live ? ['health', 'viewers'] : [])];
  print(table([head, ...rows.map((r) => [r.name, String(r.region), r.vpnAddress, r.rtsp, String(r.capacity || 'no limit'), ...(live ? [r.health ?? '?', String(r.viewers ?? 0)] : [])])]));
  if (!live) print('\n(the origin is not running: health shows once `haven start` runs)');
}
