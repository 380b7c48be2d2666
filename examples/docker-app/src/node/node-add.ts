import { readFile } from 'node:fs/promises';
import {
  addNodeEntry,
  HavenError,
  updateConfigFile,
  writeFileAtomic,
  type Haven,
  type HavenNode,
  type HavenPlugin,
  type NodeEntry,
  type OriginConfig,
} from '@haven/core';
import { isOriginVpn } from '../home/origin-vpn.js';

/**
 * A node that is already in the config (same name, or same key under another name) is not added
 * again: its bundle can be printed again instead.
 */
export function assertNewNode(config: OriginConfig, entry: NodeEntry): void {
  const same = config.nodes.find((n) => n.name === entry.name) ?? (entry.publicKey ? config.nodes.find((n) => n.publicKey === entry.publicKey) : undefined);
  if (!same) return;
  const why = same.name === entry.name ? `node "${entry.name}" exists` : `this share code's key belongs to node "${same.name}"`;
  throw new HavenError(`${why}: \`haven node bundle ${same.name}\` prints its join bundle again (\`haven node remove ${same.name}\` first to replace it)`, {
    code: 'NODE_DUPLICATE',
    details: { node: same.name },
  });
}

/**
 * Write a node into haven.yaml so that a failure leaves the file as it was: `apply` runs after the
 * write (e.g. the live config change) and a throw from either restores the previous text.
 */
export async function writeNodeOrRestore(file: string, plugins: HavenPlugin[], entry: NodeEntry, apply?: (next: Awaited<ReturnType<typeof updateConfigFile>>) => Promise<void>): Promise<void> {
  const before = await readFile(file, 'utf8');
  try {
    const next = await updateConfigFile(file, addNodeEntry(entry), plugins);
    await apply?.(next);
  } catch (err) {
    if ((await readFile(file, 'utf8').catch(() => before)) !== before) await writeFileAtomic(file, before);
    throw err;
  }
}

export interface LiveAddInput {
  haven: Haven;
  file: string;
  plugins: HavenPlugin[];
  entry: NodeEntry;
}

/**
 * The running origin adds a node: its VPN address is allocated first, the tunnel comes up if this is
 * the first node, then haven.yaml is written and applied live. Any failure releases the address and
 * leaves haven.yaml as it was.
 */
export async function addNodeLive(input: LiveAddInput): Promise<HavenNode> {
  const { haven, entry } = input;
  assertNewNode(haven.config as OriginConfig, entry);
  const vpn = haven.provided.vpn;
  let e = entry;
  let allocated = false;
  const release = async () => {
    if (allocated && e.publicKey && vpn) await vpn.removePeer(e.publicKey).catch(() => false);
  };
  if (e.publicKey && isOriginVpn(vpn)) {
    if (!e.vpnAddress) {
      e = { ...e, vpnAddress: (await vpn.allocate(e.name, e.publicKey)).address };
      allocated = true;
    }
    if (!vpn.isUp) {
      try {
        await vpn.up();
      } catch (err) {
        await release();
        throw new HavenError(`node "${e.name}" was not added: WireGuard could not come up on this origin (${(err as Error).message}). \`haven doctor\` says what is missing`, {
          code: 'START_FAILED',
          plugin: 'wireguard',
          cause: err,
        });
      }
    }
  }
  try {
    await writeNodeOrRestore(input.file, input.plugins, e, async (next) => {
      await haven.applyConfig(next);
    });
  } catch (err) {
    await release();
    throw err;
  }
  const node = haven.services.registry?.get(e.name);
  if (!node) throw new HavenError(`node "${e.name}" was written but is not registered`, { code: 'NODE_UNKNOWN' });
  return node;
}
