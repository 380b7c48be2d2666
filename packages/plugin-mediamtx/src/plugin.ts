import path from 'node:path';
import { definePlugin, findExecutable, joinHostPort, type HavenSecrets, type PluginInstance } from '@haven/core';
import { type HttpsGateway } from '@haven/gateway';
import { mtxError, PLUGIN_NAME } from './errors.js';
import { parseListen } from './net.js';
import { mediamtxOptionsSchema, parseOptions, type MediamtxOptions, type MediamtxOptionsInput } from './options.js';
import { MediaMtxServer } from './server.js';
import { nodeTls } from './tls/node-tls.js';
import type { TlsManager } from './tls/manager.js';
import { nodeHttpsDoor, nodeHttpsEntry } from './tls/https-entry.js';

/** Default RTSP port of an origin's MediaMTX (the gateway owns the public port). */
export const ORIGIN_RTSP_PORT = 8654;
/** Default RTSP listener of an origin's MediaMTX: loopback (the gateway splices here; nodes come through the app's relay door on the VPN address, with a PROXY header). */
export const ORIGIN_RTSP_ADDRESS = `127.0.0.1:${ORIGIN_RTSP_PORT}`;
/** Default HLS listener of an origin's MediaMTX: loopback (the HLS gateway proxies here). */
export const ORIGIN_HLS_ADDRESS = '127.0.0.1:8655';

/**
 * Where an origin's MediaMTX listens, from its options. RTSP on loopback: the gateway splices viewers
 * there and the app's relay door (opened on the VPN address when the tunnel comes up, which may be long
 * after MediaMTX started) splices nodes there, both with a PROXY header. HLS on loopback; ingest on
 * loopback unless `ingest: lan`. Nothing on a public address: the gateway is the one public door. A
 * node's RTSP is on loopback as well, behind its entry gateway; it keeps its public HLS listener for now.
 */
export function resolveListeners(
  role: 'origin' | 'node',
  o: MediamtxOptions,
  pub: { bind: string; rtspPort: number; hlsPort: number },
  vpnAddress: string | undefined,
): { rtspAddress: string; hlsAddress: string | undefined; rtmpAddress: string; srtAddress: string; trustedProxies: string[] } {
  const origin = role === 'origin';
  // A node's RTSP is on loopback too: its entry gateway owns the public port (the app's entry-gateway.ts).
  const rtspAddress = o.rtspAddress ?? ORIGIN_RTSP_ADDRESS;
  const hlsAddress = o.hls ? (o.hlsAddress ?? (origin ? ORIGIN_HLS_ADDRESS : joinHostPort(pub.bind, pub.hlsPort))) : undefined;
  const lan = o.ingest === 'lan';
  const rtmpAddress = o.rtmpAddress ?? (lan ? ':1935' : '127.0.0.1:1935');
  const srtAddress = o.srtAddress ?? (lan ? ':8890' : '127.0.0.1:8890');
  const rtspHost = parseListen(rtspAddress)?.host;
  const trusted = ['127.0.0.1/32'];
  if (origin && rtspHost && vpnAddress && rtspHost === vpnAddress) trusted.push(`${vpnAddress}/${vpnAddress.includes(':') ? 128 : 32}`);
  return { rtspAddress, hlsAddress, rtmpAddress, srtAddress, trustedProxies: o.trustedProxies ?? trusted };
}

/** The MediaMTX executable: the option, then `$MEDIAMTX_BIN`, then `mediamtx` on PATH. */
export function resolveBinary(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (option) return option;
  if (env.MEDIAMTX_BIN) return env.MEDIAMTX_BIN;
  const found = findExecutable('mediamtx', env);
  if (found) return found;
  return 'mediamtx'; // spawning it fails with BINARY_MISSING and what to do
}

/** What `setup` hands back: the PluginInstance plus the concrete server (tests, the app). */
export interface MediamtxInstance extends PluginInstance {
  mediaServer: MediaMtxServer;
  /** Node with `tls`: the certificate manager (status, renewNow). */
  tls?: TlsManager;
  /** Node with `tls`: its HTTPS entry (port 443 unless `httpsEntryAddress`). */
  httpsEntry?: HttpsGateway;
}

/**
 * The MediaMTX plugin: renders MediaMTX's config for the role, runs it under a supervisor, decides every
 * publish/read in its auth hook from the Haven's current secrets, and provides the `MediaServer`.
 */
export function mediamtx(options: MediamtxOptionsInput = {}) {
  parseOptions(options); // code options are checked once, here
  return definePlugin({
    name: PLUGIN_NAME,
    schema: mediamtxOptionsSchema,
    options,
    setup(ctx): MediamtxInstance {
      const o: MediamtxOptions = ctx.options ?? parseOptions(options);
      if (ctx.role === 'node' && !o.originRelay) {
        throw mtxError(
          'ORIGIN_RELAY_MISSING',
          'originRelay: a node needs the origin relay address (its VPN address and RTSP port, from the join bundle), e.g. { host: "10.77.0.1", port: 8654 }',
        );
      }
      const listeners = resolveListeners(ctx.role, o, ctx.config.public, ctx.provided.vpn?.address());
      const tls = nodeTls(ctx.role, o, ctx.config.public.host, ctx.stateDir, ctx.logger);
      const door = tls ? nodeHttpsDoor(o, ctx.config, tls) : undefined;
      const httpsEntry = tls && door ? nodeHttpsEntry(o, ctx.config, tls, door, ctx.secrets, ctx.tokenKey, ctx.logger) : undefined;
      const gateway = (ctx.config as { gateway?: { maxAuthFailuresPerMinute?: number } }).gateway;
      const server = new MediaMtxServer({
        role: ctx.role,
        options: o,
        binary: resolveBinary(o.binary),
        ffmpegBinary: o.ffmpegBinary ?? process.env.FFMPEG_BIN ?? 'ffmpeg',
        viewerUser: ctx.config.viewer.user,
        nodeName: ctx.config.name,
        ...listeners,
        maxAuthFailures: o.maxAuthFailuresPerMinute ?? gateway?.maxAuthFailuresPerMinute ?? 10,
        workDir: path.join(ctx.stateDir, PLUGIN_NAME),
        ...(tls ? { tlsFile: tls.liveFile } : {}),
        streams: ctx.config.streams,
        secrets: ctx.secrets.get(),
        ...(ctx.tokenKey ? { tokenKey: ctx.tokenKey } : {}),
        logger: ctx.logger,
        events: ctx.events,
      });
      if (door) server.httpsDoor = door;
      // Rotation reaches the hook at once, whether it comes through the Haven (onSecrets) or the store.
      const onRotated = (_name: unknown, secrets: HavenSecrets) => void server.updateSecrets(secrets).catch((err: unknown) => ctx.logger.error({ err }, 'applying rotated secrets failed'));
      return {
        mediaServer: server,
        ...(tls ? { tls } : {}),
        ...(httpsEntry ? { httpsEntry } : {}),
        async start() {
          ctx.secrets.on('rotated', onRotated);
          await tls?.prepare();
          await server.start();
          await tls?.start();
          await httpsEntry?.start();
        },
        async stop() {
          ctx.secrets.off('rotated', onRotated);
          await httpsEntry?.stop();
          await tls?.stop();
          await server.close();
        },
        onSecrets: (secrets) => server.updateSecrets(secrets),
        status: async () => ({ ...(await server.status()), ...(tls ? { tls: tls.status() } : {}) }),
      };
    },
  });
}
