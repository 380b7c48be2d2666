import type { HavenConfig } from './config/schema.js';
import type { HavenEmitter } from './events.js';
import type { Logger } from './logger.js';
import type { ProvidedContracts } from './plugin.js';
import type { SecretStore } from './secrets.js';

/** A part of core with a lifecycle (registry, health monitor, gateway). */
export interface CoreService {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface CoreServiceContext {
  config: HavenConfig;
  events: HavenEmitter;
  logger: Logger;
  provided: ProvidedContracts;
  secrets: SecretStore;
  stateDir: string;
}

export interface CoreServices {
  list: CoreService[];
}

/** Build core's services for the role. Started after every plugin, stopped before them. */
export async function createCoreServices(_ctx: CoreServiceContext): Promise<CoreServices> {
  return { list: [] };
}
