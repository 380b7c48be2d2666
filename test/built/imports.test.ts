// Imports every built package through its exports map, as ESM and as CJS, the way users will.
// Runs in the `dist` vitest project (folder test/built), which has no source aliases: `pnpm -r build` must have run.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

const PACKAGES: Array<{ name: string; dir: string; exportsOf: string[]; esmOnly?: boolean }> = [
  { name: '@haven/core', dir: 'packages/core', exportsOf: ['createHaven', 'HavenError', 'definePlugin', 'loadConfig', 'haversineKm'] },
  { name: '@haven/gateway', dir: 'packages/gateway', exportsOf: ['gatewayServices', 'createRtspGateway', 'createEntryRouting', 'rtspProbe'] },
  { name: '@haven/control', dir: 'packages/control', exportsOf: ['createControlApi', 'havenApiDeps', 'createNodeReporter', 'createRelayPlanner'] },
  { name: '@haven/door', dir: 'packages/door', exportsOf: ['guardRequestListener', 'guardConnection', 'TokenBuckets'] },
  { name: '@haven/ingest', dir: 'packages/ingest', exportsOf: ['checkIngest', 'createIngestMonitor', 'audioNeedsFix'] },
  { name: '@haven/core/testing', dir: 'packages/core', exportsOf: ['locatorContract', 'vpnContract', 'mediaServerContract', 'probeContract'], esmOnly: true },
  { name: '@haven/plugin-geo', dir: 'packages/plugin-geo', exportsOf: ['geoip'] },
  { name: '@haven/plugin-wireguard', dir: 'packages/plugin-wireguard', exportsOf: ['wireguard'] },
  { name: '@haven/plugin-mediamtx', dir: 'packages/plugin-mediamtx', exportsOf: ['mediamtx'] },
  { name: '@haven/custom-locator', dir: 'examples/custom-locator', exportsOf: ['csvLocator', 'createCsvLocator'] },
];

describe.each(PACKAGES)('$name built output', ({ name, dir, exportsOf, esmOnly }) => {
  const sub = name.split('/').slice(2).join('/');
  const base = path.join(root, dir, 'dist', sub ? `${sub}/index` : 'index');

  it('has .js, .cjs and .d.ts files', () => {
    for (const ext of esmOnly ? ['.js', '.d.ts'] : ['.js', '.cjs', '.d.ts', '.d.cts']) expect(existsSync(base + ext), base + ext).toBe(true);
  });

  it('imports as ESM', async () => {
    const mod = (await import(name)) as Record<string, unknown>;
    for (const e of exportsOf) expect(typeof mod[e], `${name} ESM export ${e}`).not.toBe('undefined');
  });

  // The contract suites run inside vitest, which is ESM-only, so that entry is ESM-only too.
  if (!esmOnly) {
    it('requires as CJS', () => {
      const mod = require(name) as Record<string, unknown>;
      for (const e of exportsOf) expect(typeof mod[e], `${name} CJS export ${e}`).not.toBe('undefined');
    });
  }

  it('declares types for both conditions in its exports map', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8')) as { exports: Record<string, { import: { types: string }; require: { types: string } }> };
    if (esmOnly) {
      const e = pkg.exports[`./${sub}`] as unknown as { types: string; import: string };
      expect(existsSync(path.join(root, dir, e.types))).toBe(true);
      expect(existsSync(path.join(root, dir, e.import))).toBe(true);
      return;
    }
    const entry = pkg.exports[sub ? `./${sub}` : '.'];
    expect(entry?.import.types).toMatch(/\.d\.ts$/);
    expect(entry?.require.types).toMatch(/\.d\.cts$/);
    expect(existsSync(path.join(root, dir, entry!.import.types))).toBe(true);
    expect(existsSync(path.join(root, dir, entry!.require.types))).toBe(true);
  });
});
