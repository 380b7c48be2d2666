import {
  joinHostPort,
  parseHostPort,
  ConfigWriter,
  createHaven,
  HavenError,
  originExposure,
  watchConfig,
  type Haven,
  type OriginConfig,
} from '@haven/core';
import { type ControlApi } from '@haven/control';
import { gatewayServices } from '@haven/gateway';
import { apiToken } from '../home/api-token.js';
import type { Loaded } from '../home/loaded.js';
import { isOriginVpn } from '../home/origin-vpn.js';
import { startEntryGateway } from '../node/entry-gateway.js';
import { startEntryTrust } from '../node/node-trust.js';
import { startRoutingFollow } from '../node/routing-follow.js';
import { startIngestCheck } from './ingest-view.js';
import { startNodeReporter } from './node-reporter.js';
import { openRelayDoor, startOriginApi } from './origin-api.js';
import { terminalLog } from './terminal-log.js';
import { publishHost } from './urls.js';

export interface Running {
  haven: Haven;
  api?: ControlApi;
  stop(): Promise<void>;
}

type Progress = (message: string) => void;

/** Start the role in the foreground: plugins, core services, control API, config watcher. */
export async function startHaven(l: Loaded, progress: Progress, o: { jsonLogs?: boolean; logLevel?: string } = {}): Promise<Running> {
  const { loaded, plugins } = l;
  const cfg = loaded.config;
  if (cfg.role === 'node' && !l.join) {
    throw new HavenError('this node has not joined a Haven yet: run `haven node join <bundle>` with the bundle the origin gave you', { code: 'NOT_STARTED' });
  }
  const log = terminalLog({ level: o.logLevel ?? cfg.log.level, name: `haven-${cfg.role}`, json: !!o.jsonLogs });
  const haven = createHaven(loaded, plugins, { logger: log.logger, redactor: log.redactor, services: gatewayServices });
  const READY: Record<string, string> = { wireguard: 'WireGuard tunnel up', mediamtx: 'MediaMTX answering', geo: 'GeoIP database loaded' };
  haven.events.on('plugin:started', ({ name }) => {
    const vpn = haven.provided.vpn;
    if (name === 'wireguard' && isOriginVpn(vpn) && !vpn.isUp) progress('WireGuard ready: the tunnel comes up with the first `haven node add`');
    else progress(READY[name] ?? `${name} ready`);
  });
  haven.events.on('health:changed', ({ node, to, result }) => progress(`node ${node} is ${to}${result.reason ? ` (${result.reason})` : ''}`));
  haven.events.on('publisher:up', ({ stream }) => progress(`publisher live on "${stream}"`));
  haven.events.on('publisher:down', ({ stream }) => progress(`publisher left "${stream}"`));
  progress(`starting ${cfg.role} "${cfg.name}" (plugins: ${plugins.map((p) => p.name).join(', ')})`);
  await haven.start();

  const parts: Array<() => Promise<void>> = [() => haven.stop()];
  const stop = async () => {
    for (const p of parts.reverse()) await p().catch(() => {});
  };
  try {
    const token = await apiToken(haven.stateDir);
    if (cfg.role === 'origin') {
      // Nodes added live are dialled from the running config (a private origin dials out).
      const originVpn = haven.provided.vpn;
      if (isOriginVpn(originVpn)) originVpn.configFrom(() => haven.config as OriginConfig);
      // Every config change (API, CLI through the API, the file watcher) goes through this one queue.
      const writer = new ConfigWriter({ file: loaded.file, plugins, apply: (next) => haven.applyConfig(next) });
      const ingestCheck = startIngestCheck(haven);
      if (ingestCheck) parts.push(() => ingestCheck.stop());
      const api = await startOriginApi(haven, l, token, writer, ingestCheck);
      parts.push(() => api.stop());
      const door = openRelayDoor(haven, l);
      if (door) parts.push(() => door.close());
      progress(`control API and status page on ${api.url()}`);
      const watcher = await watchConfig(loaded.file, {
        plugins,
        onChange: async () => {
          try {
            await writer.reload();
          } catch (err) {
            haven.logger.error({ err }, 'the edited config could not be applied; the running config stays as it was');
            haven.events.emit('error', { error: err as HavenError, source: 'config' });
          }
        },
        onInvalid: (error) => haven.logger.error({ err: error }, 'the edited config is invalid; the running config stays as it was'),
      });
      parts.push(async () => watcher.close());
      const origin = haven.services.registry?.origin();
      if (originExposure(cfg as OriginConfig) === 'private') {
        progress(`private origin: nothing listens on a public address; viewers come in through the entry nodes (\`haven urls\`); this machine dials each node's WireGuard`);
      } else {
        progress(`players: ${origin?.rtspUrl ?? '?'}/<stream> (RTSP; rtspt:// in VRChat), ${origin?.hlsUrl ?? '?'}/<stream>/index.m3u8 (HLS over http:// sends the password with Basic: prefer RTSP)`);
      }
      const media = haven.provided.mediaServer?.endpoints();
      const host = publishHost(cfg, (loaded.pluginOptions.mediamtx ?? {}) as { ingest?: string; rtmpAddress?: string });
      const at = (a?: string) => joinHostPort(host, a ? (parseHostPort(a).port ?? '') : '');
      if (media?.rtmp) progress(`OBS: rtmp://${at(media.rtmp)} or srt://${at(media.srt)} with the stream key`);
      return { haven, api, stop };
    }
    const reporter = startNodeReporter(haven, l.join!);
    parts.push(() => reporter.stop());
    const routing = startRoutingFollow(haven, l.join!);
    parts.push(() => routing.stop());
    const trust = startEntryTrust(haven, routing.follower);
    parts.push(async () => trust.stop());
    const entry = await startEntryGateway(haven, l.join!, routing.follower);
    parts.push(() => entry.stop());
    return { haven, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

