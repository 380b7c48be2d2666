import { joinHostPort, type HavenConfig, type Logger, type SecretStore, type ViewerTokenKey } from '@haven/core';
import { createHttpsGateway, type HttpsGateway } from '@haven/gateway';
import { parseListen } from '../net.js';
import type { MediamtxOptions } from '../options.js';
import { HttpsDoor } from './https-door.js';
import type { TlsManager } from './manager.js';

/** The node's HTTPS door: its own HTTPS HLS base URL (MediaMTX's HLS listener with the certificate). */
export function nodeHttpsDoor(o: MediamtxOptions, config: HavenConfig, tls: TlsManager): HttpsDoor {
  const hlsPort = parseListen(o.hlsAddress ?? '')?.port ?? config.public.hlsPort;
  const host = config.public.host.includes(':') && !config.public.host.startsWith('[') ? `[${config.public.host}]` : config.public.host;
  return new HttpsDoor(tls, `https://${host}:${hlsPort}`);
}

/**
 * A node's own HTTPS entry on port 443 (the Quest URL): each viewer goes to the node the door's
 * routing chooses (the app hands in the node's entry routing: nearest healthy node with HTTPS), with a
 * signed token; until then, to this node's own HTTPS playlist.
 */
export function nodeHttpsEntry(
  o: MediamtxOptions,
  config: HavenConfig,
  tls: TlsManager,
  door: HttpsDoor,
  secrets: SecretStore,
  tokenKey: ViewerTokenKey | undefined,
  logger: Logger,
): HttpsGateway | undefined {
  if (o.httpsEntryAddress === false) return undefined;
  const at = parseListen(o.httpsEntryAddress ?? joinHostPort(config.public.bind, 443));
  if (!at) return undefined;
  return createHttpsGateway({
    host: at.host === '' ? '0.0.0.0' : at.host,
    port: at.port,
    certFile: tls.liveFile,
    // Routed by the node's entry routing: its verifier alone (none while it holds no routing state: 503),
    // never a fallback to a password this node may hold.
    viewer: () => {
      const r = door.routing();
      return r ? r.viewer() : { user: config.viewer.user, password: secrets.get().viewerPassword };
    },
    streams: () => config.streams.map((s) => s.name),
    choose: (ip, stream) => {
      const r = door.routing();
      return r ? r.choose(ip, stream) : { node: config.name, hlsBase: door.hlsBase };
    },
    prepare: (ip) => door.routing()?.prepare?.(ip),
    // The node's own key: the chosen node accepts it while this node is in its routing state.
    tokenKey: () => tokenKey,
    logger,
  });
}
