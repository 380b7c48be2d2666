export * from './errors.js';
export * from './geo.js';
export * from './regions.js';
export * from './contracts.js';
export * from './events.js';
export * from './plugin.js';
export * from './logger.js';
export * from './log-sink.js';
export * from './state.js';
export * from './secrets.js';
export { nodeCredential, nodeOfCredential, credentialVerifier, matchesVerifier, type CredentialSubject } from './node-credential.js';
export * from './config/schema.js';
export * from './config/load.js';
export * from './services.js';
export * from './routing/index.js';
export * from './relay/index.js';
export * from './gateway/index.js';
export * from './haven.js';
export * from './config/edit.js';
export * from './config/watch.js';
export * from './config/writer.js';
export * from './config/lock.js';
export * from './api/index.js';
export * from './live-config.js';
export * from './ingest/index.js';
export {
  BadInput,
  guardRequestListener,
  guardConnection,
  parseRequestTarget,
  decodeComponent,
  requestTargetForLog,
  type DoorGuardOptions,
  type DoorLogger,
} from './door-guard.js';
export { addressIp, joinHostPort, normalizeIp, parseHostPort, splitHostPort, trimBase, urlHostPort } from './net/address.js';
export { findExecutable } from './find-executable.js';
