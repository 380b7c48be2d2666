// Routing and health: the public surface (implementation stays in the files below).
export * from './nodes.js';
export * from './registry.js';
export * from './selector.js';
export * from './probes.js';
export * from './health.js';
export * from './policy.js';
export * from './stats.js';
export * from './router.js';
export * from './explain.js';
export * from './routing-state.js';
export * from './https-book.js';
export * from './exposure.js';
export * from './ip.js';
export * from './players.js';
export * from './serve-decision.js';
export { healthSchemaDefaults } from './defaults.js';
