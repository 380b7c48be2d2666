import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { cli: 'src/cli.ts', index: 'src/index.ts' },
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: false, // the package build script removes dist once (scripts/clean-dist.mjs)
  target: 'node20',
});
