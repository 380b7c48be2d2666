import path from 'node:path';
import {
  HavenError,
  nodeCredential,
  removeNodeEntry,
  SecretStore,
  updateConfigFile,
  withFileLock,
  ensureStateDir,
  type HavenPlugin,
  type HavenSecrets,
  type LoadedConfig,
  type NodeEntry,
  type OriginConfig,
  originExposure,
} from '@haven/core';
import { AddressPlan, decodeJoinBundle, decodeShareCode, encodeJoinBundle, loadOrCreateKeyPair, parseSubnet, type JoinBundle } from '@haven/plugin-wireguard';
import { REPORT_PORT, settingsOf } from '../home/derived.js';
import { assertNewNode, writeNodeOrRestore } from './node-add.js';
import { selectPlugins } from '../home/plugins.js';
import { type JoinState, unknownViewerPassword, writeJoinState } from '../home/join-state.js';

/** Node side: take the origin's bundle, keep its passwords in the secrets file, and record the rest. */
export async function joinWithBundle(loaded: LoadedConfig, bundleText: string): Promise<JoinState> {
  if (loaded.config.role !== 'node') {
    throw new HavenError(`${loaded.file} is an ${loaded.config.role} config: run \`haven node join\` in a node's folder (\`haven init --role node\`)`, { code: 'CONFIG_INVALID' });
  }
  const bundle = decodeJoinBundle(bundleText);
  // The node's key pair was made by `haven node keygen`; make sure it exists.
  await loadOrCreateKeyPair(loaded.stateDir);
  const relay = new URL(bundle.relay.url.replace(/^rtsps?:/, 'http:'));
  const state: JoinState = {
    version: 1,
    origin: bundle.origin,
    node: bundle.node,
    subnet: bundle.subnet,
    relay: { host: relay.hostname, port: Number(relay.port || 554), user: bundle.relay.user },
    viewerUser: bundle.viewer.user,
    viewerPasswordHeld: bundle.viewer.password !== undefined,
    streams: bundle.streams,
    reportUrl: `http://${bundle.origin.address}:${REPORT_PORT}`,
  };
  // The node serves the origin's streams under the origin's viewer name. The edit is checked
  // against the plugins the joined node runs with (their sections are in the file), and made
  // before anything is stored, so a rejected edit leaves the node unjoined.
  const plugins = selectPlugins({ role: 'node', sections: Object.keys(loaded.config.plugins), hasNodes: false, join: state });
  await updateConfigFile(
    loaded.file,
    (doc) => {
      doc.set('streams', doc.createNode(bundle.streams.map((name) => ({ name }))));
      doc.setIn(['viewer', 'user'], bundle.viewer.user);
      if (bundle.node.name && doc.get('name') !== bundle.node.name) doc.set('name', bundle.node.name);
    },
    plugins,
  );
  const secrets = await SecretStore.open(loaded.stateDir);
  // Without the viewer password (a private origin) the node keeps a random value of its own that no
  // viewer knows: its viewers are checked against the routing state's HA1 (entry-gateway.ts).
  await secrets.adopt({ viewerPassword: bundle.viewer.password ?? unknownViewerPassword(), relayPassword: bundle.relay.password });
  await writeJoinState(loaded.stateDir, state);
  return state;
}

export interface AddNodeInput {
  shareCode: string;
  /** Overrides the name in the share code. */
  name?: string;
  capacity?: number;
}

/** A node entry from a share code (name, place, public URLs, key). */
export function entryFromShareCode(input: AddNodeInput): NodeEntry {
  const code = decodeShareCode(input.shareCode);
  const name = input.name ?? code.name;
  if (!name) throw new HavenError('the share code carries no node name: pass --name <name>', { code: 'CONFIG_INVALID' });
  if (!code.rtsp) {
    throw new HavenError('the share code carries no public RTSP address: the node should run `haven node keygen` with --public-host', { code: 'CONFIG_INVALID' });
  }
  return {
    name,
    region: code.region,
    rtsp: code.rtsp,
    ...(code.hls ? { hls: code.hls } : {}),
    capacity: input.capacity ?? 0,
    publicKey: code.publicKey,
  } as NodeEntry;
}

/**
 * Origin side, when the origin is not running: give the node a stable VPN address, then write it
 * into haven.yaml. (A running origin does the same through its control API.) A failed write
 * releases the address and leaves haven.yaml as it was.
 */
export async function addNodeOffline(file: string, plugins: HavenPlugin[], loaded: LoadedConfig, entry: NodeEntry): Promise<NodeEntry> {
  assertNewNode(loaded.config as OriginConfig, entry);
  const { vpn } = settingsOf(loaded);
  // Two `haven node add` at once: one allocation at a time, so they never get the same address.
  await ensureStateDir(loaded.stateDir); // the lock lives there (a node added before the first start)
  return withFileLock(path.join(loaded.stateDir, 'address-plan'), async () => {
    const plan = await AddressPlan.open(loaded.stateDir, parseSubnet(vpn.subnet), vpn.originAddress);
    const alloc = await plan.assign({ name: entry.name, ...(entry.publicKey ? { publicKey: entry.publicKey } : {}) });
    const withAddr = { ...entry, vpnAddress: alloc.address };
    try {
      await writeNodeOrRestore(file, plugins, withAddr);
    } catch (err) {
      if (entry.publicKey) await plan.release(entry.publicKey).catch(() => false);
      throw err;
    }
    return withAddr;
  });
}

export async function removeNodeOffline(file: string, plugins: HavenPlugin[], name: string): Promise<void> {
  await updateConfigFile(file, removeNodeEntry(name), plugins);
}

/** The join bundle for a node that was added (secrets from the origin's state). */
export async function makeJoinBundle(loaded: LoadedConfig, entry: NodeEntry, secrets: HavenSecrets): Promise<string> {
  if (!entry.vpnAddress || !entry.publicKey) {
    throw new HavenError(`node "${entry.name}" has no VPN address or key in ${loaded.file}: \`haven node remove ${entry.name}\`, then \`haven node add\` its share code again`, { code: 'CONFIG_INVALID' });
  }
  const s = settingsOf(loaded);
  const { publicKey } = await loadOrCreateKeyPair(loaded.stateDir);
  const cfg = loaded.config as OriginConfig;
  return encodeJoinBundle({
    origin: { endpoint: s.vpn.endpoint, publicKey, address: s.vpn.originAddress },
    node: { name: entry.name, address: entry.vpnAddress },
    subnet: s.vpn.subnet,
    // The node's own credential (report bearer and pull password), never the Haven's relay password.
    relay: { url: `rtsp://${s.relay.host}:${s.relay.port}`, user: 'relay', password: nodeCredential(secrets.relayPassword, entry)! },
    // A private origin's entries check viewers against the HA1 of the routing state: no password here.
    viewer: { user: cfg.viewer.user, ...(originExposure(cfg) === 'private' ? {} : { password: secrets.viewerPassword }) },
    streams: cfg.streams.map((st) => st.name),
  });
}
