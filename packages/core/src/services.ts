import path from 'node:path';
import type { HavenConfig } from './config/schema.js';
import type { HavenEmitter } from './events.js';
import type { Logger } from './logger.js';
import type { ProvidedContracts } from './plugin.js';
import type { SecretStore } from './secrets.js';
import type { ViewerTokenKey } from './gateway/token.js';
import type { HlsGateway } from './gateway/hls/gateway.js';
import type { HealthMonitor } from './routing/health.js';
import type { NodeRegistry } from './routing/registry.js';
import type { Router } from './routing/router.js';
import type { RtspGateway } from './gateway/rtsp/gateway.js';
import { createNodeRouting, createOriginRouting } from './routing/stack.js';

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
  /** The gateway's token key (signs redirects, splices and probes). */
  tokenKey: ViewerTokenKey;
  stateDir: string;
}

export interface CoreServices {
  /** Services with a lifecycle, in start order (stopped in reverse). */
  list: CoreService[];
  /** Nodes the router picks from (origin: itself plus its relay nodes; node: itself). */
  registry?: NodeRegistry;
  /** Background probes with hysteresis, and the probe-before-redirect. */
  health?: HealthMonitor;
  /** Routing decisions, counters, recent decisions and the dry-run `explain` (origin only). */
  router?: Router;
  /** The public RTSP entry point (origin only). */
  rtspGateway?: RtspGateway;
  /** The public HLS entry point (origin only). */
  hlsGateway?: HlsGateway;
}

/** Build core's services for the role. Started after every plugin, stopped before them. */
export async function createCoreServices(ctx: CoreServiceContext): Promise<CoreServices> {
  const { config, provided } = ctx;
  if (config.role === 'origin') {
    const stack = createOriginRouting({
      config,
      secrets: () => ctx.secrets.get(),
      tokenKey: () => ctx.tokenKey,
      locator: () => provided.locator,
      probes: () => provided.probes,
      media: () => provided.mediaServer?.endpoints(),
      authFailures: (ip) => provided.mediaServer?.authFailures?.(ip) ?? 0,
      learnFile: path.join(ctx.stateDir, 'players.json'),
      events: ctx.events,
      logger: ctx.logger,
    });
    return stack.hlsGateway ? { ...stack, hlsGateway: stack.hlsGateway } : stack;
  }
  const node = createNodeRouting({
    config,
    secrets: () => ctx.secrets.get(),
    probes: () => provided.probes,
    events: ctx.events,
    logger: ctx.logger,
  });
  return node;
}
