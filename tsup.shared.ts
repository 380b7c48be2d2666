import type { Options } from 'tsup';

/** The build every library package uses: ESM + CJS + .d.ts for Node 20. */
export const library = (entry: Record<string, string> = { index: 'src/index.ts' }): Options => ({
  entry,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: false, // the package build script removes dist once (`rm -rf dist && tsup`): two configs cannot wipe each other
  target: 'node20',
  // import.meta.url in the CJS output (a package that finds its own files, e.g. the geo plugin's database).
  shims: true,
});
