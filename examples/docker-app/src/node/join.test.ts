import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, readPrivateFile, SecretStore } from '@haven/core';
import { decodeJoinBundle, encodeJoinBundle, generateKeyPair } from '@haven/plugin-wireguard';
import { JOIN_FILE, readJoinState } from '../home/join-state.js';
import { joinWithBundle } from './join.js';
import { selectPlugins } from '../home/plugins.js';
import { nodeTemplate } from '../home/template.js';

const bundle = (name = 'node-a') =>
  encodeJoinBundle({
    origin: { endpoint: '198.51.100.7:51820', publicKey: generateKeyPair().publicKey, address: '10.77.0.1' },
    node: { name, address: '10.77.0.23' },
    subnet: '10.77.0.0/24',
    relay: { url: 'rtsp://10.77.0.1:8654', user: 'relay', password: 'RelayPassword0123456789' },
    viewer: { user: 'watcher', password: 'ViewerPassword0123456789' },
    streams: ['live', 'second'],
  });

describe('joinWithBundle', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'haven-join-'));
    file = path.join(dir, 'haven.yaml');
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  async function load() {
    return loadConfig(file, selectPlugins({ role: 'node', sections: ['mediamtx', 'wireguard'], hasNodes: false }));
  }

  // Regression: the config edit was validated with no plugins, so any `plugins:` section (every
  // node config has `mediamtx: {}`) failed the join after the join state was already stored.
  it('joins a node whose haven.yaml has plugin sections, and records the origin’s streams and viewer name', async () => {
    await writeFile(file, `${nodeTemplate({ name: 'node-a', region: 'eu-central', publicHost: '203.0.113.5' })}  wireguard:\n    interfaceName: hv-test\n`);
    const state = await joinWithBundle(await load(), bundle());
    expect(state).toMatchObject({ node: { address: '10.77.0.23' }, relay: { host: '10.77.0.1', port: 8654 }, streams: ['live', 'second'] });
    const text = await readFile(file, 'utf8');
    expect(text).toContain('interfaceName: hv-test');
    const after = await loadConfig(file, selectPlugins({ role: 'node', sections: ['mediamtx', 'wireguard'], hasNodes: false, join: state }));
    expect(after.config.streams.map((s) => s.name)).toEqual(['live', 'second']);
    expect(after.config.viewer.user).toBe('watcher');
    expect(await readJoinState(after.stateDir)).toEqual(state);
    expect((await SecretStore.open(after.stateDir)).get().viewerPassword).toBe('ViewerPassword0123456789');
    expect(state.viewerPasswordHeld).toBe(true);
  });

  it('a bundle from a private origin (no viewer password): the state says so, and the node keeps a random one no viewer knows', async () => {
    await writeFile(file, nodeTemplate({ name: 'node-a', region: 'eu-central', publicHost: '203.0.113.5' }));
    const text = encodeJoinBundle({ ...JSON.parse(JSON.stringify(decodeJoinBundle(bundle()))), viewer: { user: 'watcher' } });
    const state = await joinWithBundle(await load(), text);
    expect(state.viewerPasswordHeld).toBe(false);
    expect((await readJoinState(path.join(dir, 'state')))?.viewerPasswordHeld).toBe(false);
    const pw = (await SecretStore.open(path.join(dir, 'state'))).get().viewerPassword;
    expect(pw).toMatch(/^[0-9a-f]{48}$/);
  });

  it('stores nothing when the config cannot take the join', async () => {
    await writeFile(file, nodeTemplate({ name: 'node-a', region: 'eu-central', publicHost: '203.0.113.5' }));
    const loaded = await load();
    // The file turns invalid after it was loaded (an edit in between): the join is refused whole.
    await writeFile(file, `${await readFile(file, 'utf8')}capacity: -1\n`);
    await expect(joinWithBundle(loaded, bundle())).rejects.toThrow(/capacity/);
    expect(await readPrivateFile(path.join(loaded.stateDir, JOIN_FILE))).toBeUndefined();
  });
});
