declare const __HAVEN_VERSION__: string | undefined;

/** The app's version, from its package.json at build time (tsup `define`). */
export const HAVEN_VERSION: string = typeof __HAVEN_VERSION__ === 'string' ? __HAVEN_VERSION__ : '0.0.0-dev';
