import path from 'node:path';
import type { CoreServiceContext, CoreServices, CoreServicesFactory } from '@haven/core';
import { createNodeRouting, createOriginRouting } from './origin.js';

/**
 * The Haven's routing services for its role, as `createHaven` takes them (`services: gatewayServices`):
 * on an origin the registry, health monitor, router and the RTSP and HLS gateways, wired to the
 * plugins' contracts; on a node its own registry and health monitor.
 */
export const gatewayServices: CoreServicesFactory = (ctx: CoreServiceContext): CoreServices => {
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
    return { list: stack.list, registry: stack.registry, health: stack.health, router: stack.router, players: stack.rtspGateway.learner };
  }
  const node = createNodeRouting({
    config,
    secrets: () => ctx.secrets.get(),
    tokenKey: () => ctx.tokenKey,
    probes: () => provided.probes,
    events: ctx.events,
    logger: ctx.logger,
  });
  return { list: node.list, registry: node.registry, health: node.health };
};
