import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  entry: { cli: 'src/cli.ts', index: 'src/index.ts' },
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: false, // the package build script removes dist once (`rm -rf dist && tsup`): two configs cannot wipe each other
  target: 'node20',
  define: { __HAVEN_VERSION__: JSON.stringify(version) },
});
