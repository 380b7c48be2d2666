import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, SecretStore } from '@haven/core';
import { decodeJoinBundle, generateKeyPair, encodeShareCode } from '@haven/plugin-wireguard';
import { crossPluginSettings, REPORT_PORT, settingsOf } from './derived.js';
import { addNodeOffline, entryFromShareCode, joinWithBundle, makeJoinBundle } from '../node/join.js';
import { selectPlugins } from './plugins.js';
import { nodeTemplate, originTemplate } from './template.js';

describe('crossPluginSettings', () => {
  it('defaults: 10.77.0.0/24, origin 10.77.0.1, relay on 8654, reports on 8881, endpoint on the public host', () => {
    expect(crossPluginSettings({ publicHost: '203.0.113.1' })).toEqual({
      vpn: { subnet: '10.77.0.0/24', originAddress: '10.77.0.1', listenPort: 51820, endpoint: '203.0.113.1:51820' },
      relay: { host: '10.77.0.1', port: 8654 },
      report: { host: '10.77.0.1', port: REPORT_PORT, url: `http://10.77.0.1:${REPORT_PORT}` },
      relaySubnets: ['10.77.0.0/24'],
    });
  });

  it('follows the subnet, the origin address, the listen port and MediaMTX rtspAddress', () => {
    const s = crossPluginSettings({ publicHost: '2001:db8::1', wireguard: { subnet: '10.42.8.0/22', listenPort: 40000 }, mediamtx: { rtspAddress: '10.42.8.1:9554' } });
    expect(s.vpn).toEqual({ subnet: '10.42.8.0/22', originAddress: '10.42.8.1', listenPort: 40000, endpoint: '[2001:db8::1]:40000' });
    expect(s.relay).toEqual({ host: '10.42.8.1', port: 9554 });
    expect(s.relaySubnets).toEqual(['10.42.8.0/22']);
    expect(crossPluginSettings({ publicHost: 'h', wireguard: { subnet: '10.5.0.0/24', address: '10.5.0.9' } }).relay.host).toBe('10.5.0.9');
  });

  it('an invalid section falls back to the defaults (validation reports it, with its line)', () => {
    expect(crossPluginSettings({ publicHost: 'h', wireguard: { subnet: 'nope' } }).vpn.subnet).toBe('10.77.0.0/24');
  });
});

describe('a changed subnet and relay port reach the node through the bundle', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'haven-derived-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('origin edits plugins.wireguard.subnet and plugins.mediamtx.rtspAddress; the node pulls from the new place', async () => {
    const originFile = path.join(dir, 'origin', 'haven.yaml');
    const nodeFile = path.join(dir, 'node', 'haven.yaml');
    await import('node:fs/promises').then((fs) => Promise.all([fs.mkdir(path.dirname(originFile)), fs.mkdir(path.dirname(nodeFile))]));
    const text = originTemplate({ name: 'origin', publicHost: '203.0.113.1' }).replace('  mediamtx: {}', '  mediamtx:\n    rtspAddress: ":9554"\n  wireguard:\n    subnet: 10.99.0.0/16');
    await writeFile(originFile, text);
    const settings = crossPluginSettings({ publicHost: '203.0.113.1', wireguard: { subnet: '10.99.0.0/16' }, mediamtx: { rtspAddress: ':9554' } });
    const plugins = selectPlugins({ role: 'origin', sections: ['mediamtx', 'wireguard', 'geo'], hasNodes: false, settings });
    const loaded = await loadConfig(originFile, plugins);
    // The origin's MediaMTX accepts the relay credential from the new subnet (no second setting to edit).
    expect((loaded.pluginOptions.mediamtx as { relaySubnets: string[] }).relaySubnets).toEqual(['10.99.0.0/16']);
    expect(settingsOf(loaded)).toEqual(settings);

    const nodeKey = generateKeyPair();
    const entry = entryFromShareCode({ shareCode: encodeShareCode({ publicKey: nodeKey.publicKey, region: 'eu-central', name: 'alice', rtsp: 'rtsp://198.51.100.9:8554' }) });
    const added = await addNodeOffline(originFile, plugins, loaded, entry);
    expect(added.vpnAddress!.startsWith('10.99.')).toBe(true);
    const fresh = await loadConfig(originFile, plugins);
    const bundle = await makeJoinBundle(fresh, added, (await SecretStore.open(fresh.stateDir)).get());
    const b = decodeJoinBundle(bundle);
    expect(b.origin.address).toBe('10.99.0.1');
    expect(b.subnet).toBe('10.99.0.0/16');
    expect(b.relay.url).toBe('rtsp://10.99.0.1:9554');

    await writeFile(nodeFile, nodeTemplate({ name: 'alice', region: 'eu-central', publicHost: '198.51.100.9' }));
    const nodeLoaded = await loadConfig(nodeFile, selectPlugins({ role: 'node', sections: ['mediamtx'], hasNodes: false }));
    const state = await joinWithBundle(nodeLoaded, bundle);
    expect(state.relay).toEqual({ host: '10.99.0.1', port: 9554, user: 'relay' });
    expect(state.reportUrl).toBe(`http://10.99.0.1:${REPORT_PORT}`);
    const nodePlugins = selectPlugins({ role: 'node', sections: ['mediamtx'], hasNodes: false, join: state });
    expect((nodePlugins.find((p) => p.name === 'mediamtx')!.options as { originRelay: unknown }).originRelay).toEqual({ host: '10.99.0.1', port: 9554 });
    expect((nodePlugins.find((p) => p.name === 'wireguard')!.options as { subnet: string }).subnet).toBe('10.99.0.0/16');
    expect(await readFile(originFile, 'utf8')).toContain('subnet: 10.99.0.0/16');
  });
});
