import type { Options } from 'tsup';

/** The build every library package uses: ESM + CJS + .d.ts for Node 20. */
export const library = (entry: Record<string, string> = { index: 'src/index.ts' }): Options => ({
  entry,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
