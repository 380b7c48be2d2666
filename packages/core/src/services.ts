import type { HavenConfig } from './config/schema.js';
import type { HavenEmitter } from './events.js';
import type { Logger } from './logger.js';
import type { ProvidedContracts } from './plugin.js';
import type { HealthMonitor } from './routing/health.js';
import type { PlayerBook } from './routing/players.js';
import type { NodeRegistry } from './routing/registry.js';
import type { Router } from './routing/router.js';
import type { SecretStore } from './secrets.js';
import type { ViewerTokenKey } from './token-key.js';
import type { CoreService } from './core-service.js';

/**
 * The contract between the composition root and the services it starts after the plugins: core
 * defines it, the doors' package (`@haven/gateway`'s `gatewayServices`) implements it, and the app
 * passes it to `createHaven`. So core never imports a network door.
 */

/** What a services factory gets from the Haven at start. */
export interface CoreServiceContext {
  config: HavenConfig;
  events: HavenEmitter;
  logger: Logger;
  provided: ProvidedContracts;
  secrets: SecretStore;
  /** The Haven's token key (signs redirects, splices and probes). */
  tokenKey: ViewerTokenKey;
  stateDir: string;
}

/** The services a Haven runs after its plugins, and the routing parts others read. */
export interface CoreServices {
  /** Services with a lifecycle, in start order (stopped in reverse). */
  list: CoreService[];
  /** Nodes the router picks from (origin: itself plus its relay nodes; node: itself). */
  registry?: NodeRegistry;
  /** Background probes with hysteresis, and the probe-before-redirect. */
  health?: HealthMonitor;
  /** Routing decisions, counters, recent decisions and the dry-run `explain` (origin only). */
  router?: Router;
  /** What the RTSP gateway learned about players (origin only). */
  players?: PlayerBook;
}

/** Builds the services for the Haven's role; called once per start, after every plugin started. */
export type CoreServicesFactory = (ctx: CoreServiceContext) => Promise<CoreServices> | CoreServices;
