/**
 * @haven/core: the SDK a plugin author reads. Every name here is used by another package of the
 * Haven (the doors, the control plane, the plugins, the app) or is part of the SDK's contract; what
 * is not listed stays inside. The viewer doors are `@haven/gateway`, the control API `@haven/control`,
 * the door guard `@haven/door`; the contract suites are `@haven/core/testing`.
 */

// Contracts a plugin implements, and the plugin definition.
export type {
  HavenNode,
  HavenSecrets,
  HealthProbe,
  IngestTrack,
  Locator,
  LocatorCapabilities,
  MediaEndpoints,
  MediaServer,
  MediaServerCapabilities,
  NodeCandidate,
  NodeHealthState,
  NodeSelector,
  ProbeResult,
  ProbeTarget,
  SecretName,
  SelectInput,
  StreamSpec,
  StreamStats,
  ViewerLocation,
  Vpn,
  VpnCapabilities,
  VpnPeer,
  VpnPeerStatus,
} from './contracts.js';
export { definePlugin, type HavenPlugin, type PluginContext, type PluginInstance } from './plugin.js';

// Composition: the Haven, and the services contract its doors implement.
export { createHaven, type CreateHavenOptions, type Haven, type HavenState } from './haven.js';
export type { CoreService } from './core-service.js';
export type { CoreServiceContext, CoreServices, CoreServicesFactory } from './services.js';

// Config: schemas, loading, editing and watching the file.
export {
  havenConfigSchema,
  nodeEntrySchema,
  nodeNameSchema,
  originConfigSchema,
  streamNameSchema,
  type GatewayConfig,
  type HavenConfig,
  type HavenConfigInput,
  type HealthConfig,
  type NodeConfig,
  type NodeEntry,
  type OriginConfig,
} from './config/schema.js';
export { loadConfig, type LoadedConfig } from './config/load.js';
export { addNodeEntry, removeNodeEntry, updateConfigFile } from './config/edit.js';
export { withFileLock } from './config/lock.js';
export { watchConfig } from './config/watch.js';
export { ConfigWriter } from './config/writer.js';

// Secrets, state files, node credentials and the viewer token key.
export { SecretStore } from './secrets.js';
export { ensureStateDir, randomToken, readPrivateFile, writeFileAtomic, writePrivateFile } from './state.js';
export { credentialVerifier, matchesVerifier, nodeCredential, nodeOfCredential, type CredentialSubject } from './node-credential.js';
export { isTokenPublicKey, ViewerTokenKey } from './token-key.js';

// Events, errors, logging.
export { HavenEmitter, type HavenEvents, type ViewerRoutedEvent } from './events.js';
export { HavenError, isHavenError, toHavenError, type HavenErrorOptions } from './errors.js';
export { createLogger, SecretRedactor, type Logger } from './logger.js';
export { LogSink, logStats, type LogStats } from './log-sink.js';

// Places.
export { haversineKm, isValidPoint, type GeoPoint } from './geo.js';
export { resolveRegion } from './regions.js';

// The routing model: registry, selector, health, router, exposure, the routing state entries follow.
export { NodeRegistry } from './routing/registry.js';
export { createSelector } from './routing/selector.js';
export { HealthMonitor } from './routing/health.js';
export { healthSchemaDefaults } from './routing/defaults.js';
export { Router, type RouteReason } from './routing/router.js';
export { nodesFromConfig, placeOf } from './routing/nodes.js';
export { exposureChange, exposureReason, orderEntries, originExposure, originGatewayBind } from './routing/exposure.js';
export { createHttpsUrlBook } from './routing/https-book.js';
export type { PlayerBook, PlayerView } from './routing/players.js';
export {
  createRoutingStateFollower,
  createRoutingStatePublisher,
  digestHa1,
  entryCandidates,
  havenIdOf,
  type RoutingState,
  type RoutingStateFollower,
  type RoutingStateHealth,
  type RoutingStatePlace,
  type RoutingStatePublisher,
} from './routing/routing-state.js';
// Address helpers every door uses (one home: `net/address.ts`) and the PATH finder.
export { addressIp, ipGroups, joinHostPort, normalizeIp, parseHostPort, splitHostPort, trimBase, urlHostPort } from './net/address.js';
export { findExecutable } from './find-executable.js';
