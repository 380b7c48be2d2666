import { defineConfig } from 'tsup';
import { library } from '../../tsup.shared.js';

export default defineConfig([
  library(),
  {
    // The contract suites run inside vitest, which is ESM-only: this entry ships as ESM only.
    entry: { 'testing/index': 'src/testing/index.ts' },
    format: ['esm'],
    dts: true,
    sourcemap: true,
    target: 'node20',
    external: ['vitest', '@haven/core'],
  },
]);
