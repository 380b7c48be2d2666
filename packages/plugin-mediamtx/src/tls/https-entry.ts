import { createHttpsGateway, deriveTokenKey, type HavenConfig, type HttpsGateway, type Logger, type SecretStore } from '@haven/core';
import { hostPort, parseListen } from '../net.js';
import type { MediamtxOptions } from '../options.js';
import type { TlsManager } from './manager.js';

/**
 * A node's own HTTPS entry on port 443 (the Quest URL), sending each viewer to this node's HTTPS
 * playlist with a signed token. With entry routing on nodes, `choose` is where the nearest node goes.
 */
export function nodeHttpsEntry(
  o: MediamtxOptions,
  config: HavenConfig,
  tls: TlsManager,
  secrets: SecretStore,
  logger: Logger,
): HttpsGateway | undefined {
  if (o.httpsEntryAddress === false) return undefined;
  const at = parseListen(o.httpsEntryAddress ?? hostPort(config.public.bind, 443));
  if (!at) return undefined;
  const hlsPort = parseListen(o.hlsAddress ?? '')?.port ?? config.public.hlsPort;
  const host = config.public.host.includes(':') && !config.public.host.startsWith('[') ? `[${config.public.host}]` : config.public.host;
  let key: { relay: string; key: Buffer } | undefined;
  return createHttpsGateway({
    host: at.host === '' ? '0.0.0.0' : at.host,
    port: at.port,
    certFile: tls.liveFile,
    viewer: () => ({ user: config.viewer.user, password: secrets.get().viewerPassword }),
    streams: () => config.streams.map((s) => s.name),
    choose: () => ({ node: config.name, hlsBase: `https://${host}:${hlsPort}` }),
    tokenKey: () => {
      const relay = secrets.get().relayPassword;
      if (!relay) return undefined;
      if (key?.relay !== relay) key = { relay, key: deriveTokenKey(relay) };
      return key.key;
    },
    logger,
  });
}
