/**
 * Core's shared Vpn contract against the real WireGuard driver (origin and node roles), and the
 * plugin's lifecycle through core's PluginContext, each in its own network namespace.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, HavenEmitter, originConfigSchema, SecretStore, type PluginContext } from '@haven/core';
import { vpnContract } from '@haven/core/testing';
import { createWireGuardVpn, generateKeyPair, wireguard, type WireGuardOptions } from '@haven/plugin-wireguard';
import { NetnsHarness } from '../helpers/netns.js';
import { requireTool } from '../helpers/tools.js';
import { wireguardGoPids } from './wg-processes.js';

requireTool('wg', 'apt-get install wireguard-tools');
requireTool('wireguard-go', 'apt-get install wireguard-go');

const PREFIX = 'hvwg';
let h: NetnsHarness;
let base: string;

beforeAll(async () => {
  h = await NetnsHarness.create(PREFIX);
  base = await mkdtemp(path.join(tmpdir(), 'hvwg-contract-'));
});

afterAll(async () => {
  try {
    await h?.cleanup();
  } finally {
    if (base) await rm(base, { recursive: true, force: true });
  }
  expect(await wireguardGoPids([`${PREFIX}corig`, `${PREFIX}cnode`, `${PREFIX}plug`])).toEqual([]);
});

vpnContract('wireguard (origin)', async () => {
  const ns = await h.namespace('corig');
  const vpn = await createWireGuardVpn({ role: 'origin', stateDir: await mkdtemp(path.join(base, 'o-')), netns: ns, interfaceName: `${PREFIX}corig`, listenPort: 21020 });
  h.defer(() => vpn.down());
  return {
    vpn,
    peers: [
      { publicKey: generateKeyPair().publicKey, name: 'a', allowedIps: ['10.77.0.10/32'] },
      { publicKey: generateKeyPair().publicKey, name: 'b', allowedIps: [] },
    ],
  };
});

vpnContract('wireguard (node)', async () => {
  const ns = await h.namespace('cnode');
  const vpn = await createWireGuardVpn({
    role: 'node',
    stateDir: await mkdtemp(path.join(base, 'n-')),
    netns: ns,
    interfaceName: `${PREFIX}cnode`,
    listenPort: 21021,
    address: '10.77.0.9',
    origin: { publicKey: generateKeyPair().publicKey, endpoint: '10.202.0.1:21020' },
  });
  h.defer(() => vpn.down());
  return {
    vpn,
    peers: [
      { publicKey: generateKeyPair().publicKey, allowedIps: ['10.77.0.50/32'], endpoint: '10.202.0.2:21021' },
      { publicKey: generateKeyPair().publicKey, allowedIps: ['10.77.0.51/32'] },
    ],
  };
});

describe('wireguard plugin lifecycle', () => {
  it('starts with the config nodes as peers, reports status, never logs the private key, stops cleanly', async () => {
    const ns = await h.namespace('plug');
    const stateDir = await mkdtemp(path.join(base, 'p-'));
    const node = generateKeyPair();
    const config = originConfigSchema.parse({
      role: 'origin',
      name: 'origin',
      public: { host: '10.202.9.1' },
      nodes: [
        { name: 'alice', region: 'eu-central', rtsp: 'rtsp://10.202.9.2:8554', publicKey: node.publicKey },
        { name: 'bob', region: 'us-east', rtsp: 'rtsp://10.202.9.3:8554' },
      ],
    });
    let logged = '';
    const logger = createLogger({ level: 'debug', destination: new Writable({ write: (c, _e, cb) => ((logged += String(c)), cb()) }) });
    const plugin = wireguard({ netns: ns, interfaceName: `${PREFIX}plug`, listenPort: 21030 });
    const options = plugin.schema.parse(plugin.options) as WireGuardOptions;
    const events = new HavenEmitter();
    const errors: unknown[] = [];
    events.on('error', (e) => errors.push(e));
    const ctx: PluginContext<WireGuardOptions> = {
      options,
      config,
      role: 'origin',
      stateDir,
      logger,
      events,
      secrets: SecretStore.fromValues({ streamKey: 'k'.repeat(32), viewerPassword: 'v'.repeat(20), relayPassword: 'r'.repeat(40) }),
      provided: { probes: [] },
    };
    const inst = await plugin.setup(ctx);
    h.defer(() => inst.stop?.());
    await inst.start!();
    const peers = await inst.vpn!.peers();
    expect(peers).toHaveLength(1);
    expect(peers[0]).toMatchObject({ publicKey: node.publicKey, name: 'alice', allowedIps: [expect.stringMatching(/^10\.77\.0\.\d+\/32$/)] });
    const status = (await inst.status!()) as Record<string, unknown>;
    expect(status).toMatchObject({ interface: `${PREFIX}plug`, up: true, address: '10.77.0.1', subnet: '10.77.0.0/24', listenPort: 21030 });
    expect(['kernel', 'userspace']).toContain(status.implementation);
    const privateKey = (await readFile(path.join(stateDir, 'wireguard', 'private.key'), 'utf8')).trim();
    expect(JSON.stringify(status)).not.toContain(privateKey);
    await inst.stop!();
    await inst.stop!(); // safe twice
    expect(logged).toContain('wireguard up');
    expect(logged).not.toContain(privateKey);
    expect(errors).toEqual([]);
    expect((await h.exec(ns, 'ip', ['link', 'show', 'dev', `${PREFIX}plug`])).code).not.toBe(0);
  });
});
