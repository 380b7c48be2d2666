import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

/** Tests run against sources; the `dist` project checks the built packages through their exports maps. */
const alias = {
  '@haven/core/testing': fileURLToPath(new URL('./packages/core/src/testing/index.ts', import.meta.url)),
  '@haven/core': src('core'),
  '@haven/gateway': src('gateway'),
  '@haven/control': src('control'),
  '@haven/door': src('door'),
  '@haven/ingest': src('ingest'),
  '@haven/plugin-geo': src('plugin-geo'),
  '@haven/plugin-wireguard': src('plugin-wireguard'),
  '@haven/plugin-mediamtx': src('plugin-mediamtx'),
};

/** Each test file gets its own TMPDIR and fails when it leaves a project temp folder there. */
const setupFiles = [fileURLToPath(new URL('./test/helpers/file-tmpdir.ts', import.meta.url))];

export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts'],
          environment: 'node',
          setupFiles,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/built/**'],
          environment: 'node',
          setupFiles,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Real processes, namespaces and fixed ports: one file at a time.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'dist',
          include: ['test/built/**/*.test.ts'],
          environment: 'node',
          setupFiles,
        },
      },
    ],
  },
});
