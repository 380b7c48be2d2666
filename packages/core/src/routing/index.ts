// Routing and health: the public surface (implementation stays in the files below).
export * from './nodes.js';
export * from './registry.js';
export * from './selector.js';
export * from './probes.js';
export * from './probe-rtsp.js';
export * from './health.js';
export * from './policy.js';
export * from './stats.js';
export * from './router.js';
export * from './explain.js';
export * from './stack.js';
export * from './routing-state.js';
export * from './entry.js';
export * from './https-book.js';
export * from './exposure.js';
export { ipGroups } from './ip.js';
