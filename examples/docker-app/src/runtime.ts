import path from 'node:path';
import {
  addNodeEntry,
  createControlApi,
  createHaven,
  createNodeReporter,
  havenApiDeps,
  HavenError,
  loadConfig,
  randomToken,
  readPrivateFile,
  removeNodeEntry,
  updateConfigFile,
  watchConfig,
  writePrivateFile,
  type ControlApi,
  type Haven,
  type HavenPlugin,
  type LoadedConfig,
  type NodeEntry,
  type NodeReporter,
  type OriginConfig,
  type Vpn,
} from '@haven/core';
import { type Home, peekConfig, requireConfig } from './home.js';
import { readJoinState, REPORT_PORT, type JoinState } from './join.js';
import { selectPlugins } from './plugins.js';

export const API_TOKEN_FILE = 'api-token';

export interface Loaded {
  home: Home;
  loaded: LoadedConfig;
  plugins: HavenPlugin[];
  join?: JoinState | undefined;
}

/** Read and validate haven.yaml with the plugins it needs. */
export async function loadHome(home: Home): Promise<Loaded> {
  requireConfig(home);
  const peek = peekConfig(home);
  // The join state sits in the state dir, which the config names: a first pass finds it.
  const first = await loadConfig(home.configFile, selectPlugins({ role: peek.role, sections: peek.plugins, hasNodes: peek.hasNodes }));
  const join = first.config.role === 'node' ? await readJoinState(first.stateDir) : undefined;
  const plugins = selectPlugins({ role: peek.role, sections: peek.plugins, hasNodes: peek.hasNodes, join });
  const loaded = await loadConfig(home.configFile, plugins);
  return { home, loaded, plugins, join };
}

/** The control API token (0600 in the state dir), created on first use. */
export async function apiToken(stateDir: string): Promise<string> {
  const file = path.join(stateDir, API_TOKEN_FILE);
  const existing = (await readPrivateFile(file))?.trim();
  if (existing) return existing;
  const token = randomToken(40);
  await writePrivateFile(file, `${token}\n`);
  return token;
}

export interface Running {
  haven: Haven;
  api?: ControlApi;
  stop(): Promise<void>;
}

type Progress = (message: string) => void;

/** Start the role in the foreground: plugins, core services, control API, config watcher. */
export async function startHaven(l: Loaded, progress: Progress): Promise<Running> {
  const { loaded, plugins } = l;
  const cfg = loaded.config;
  if (cfg.role === 'node' && !l.join) {
    throw new HavenError('this node has not joined a Haven yet: run `haven node join <bundle>` with the bundle the origin gave you', { code: 'NOT_STARTED' });
  }
  const haven = createHaven(loaded, plugins);
  const READY: Record<string, string> = { wireguard: 'WireGuard tunnel up', mediamtx: 'MediaMTX answering', geo: 'GeoIP database loaded' };
  haven.events.on('plugin:started', ({ name }) => progress(READY[name] ?? `${name} ready`));
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
      const api = await startOriginApi(haven, l, token);
      parts.push(() => api.stop());
      progress(`control API and status page on ${api.url()}`);
      const watcher = await watchConfig(loaded.file, {
        plugins,
        onChange: async (next) => {
          try {
            await haven.applyConfig(next);
          } catch (err) {
            haven.events.emit('error', { error: err as HavenError, source: 'config' });
          }
        },
        onInvalid: (error) => haven.logger.error({ err: error }, 'the edited config is invalid; the running config stays as it was'),
      });
      parts.push(async () => watcher.close());
      const origin = haven.services.registry?.origin();
      progress(`players: ${origin?.rtspUrl ?? '?'}/<stream> (RTSP; rtspt:// in VRChat), ${origin?.hlsUrl ?? '?'}/<stream>/index.m3u8 (HLS over http:// sends the password with Basic: prefer RTSP)`);
      const media = haven.provided.mediaServer?.endpoints();
      const port = (a?: string) => a?.slice(a.lastIndexOf(':') + 1);
      const host = cfg.public.host.includes(':') ? `[${cfg.public.host}]` : cfg.public.host;
      if (media?.rtmp) progress(`OBS: rtmp://${host}:${port(media.rtmp)} or srt://${host}:${port(media.srt)} with the stream key`);
      return { haven, api, stop };
    }
    const reporter = startNodeReporter(haven, l.join!);
    parts.push(() => reporter.stop());
    return { haven, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startOriginApi(haven: Haven, l: Loaded, token: string): Promise<ControlApi> {
  const cfg = haven.config as OriginConfig;
  const vpn: Vpn | undefined = haven.provided.vpn;
  const ingest = haven.provided.mediaServer?.endpoints();
  const publicHost = cfg.public.host;
  const portOf = (hostPort?: string) => hostPort?.split(':').pop();
  const deps = havenApiDeps(haven, {
    ingest: {
      ...(ingest?.rtmp ? { rtmp: `${publicHost}:${portOf(ingest.rtmp)}` } : {}),
      ...(ingest?.srt ? { srt: `${publicHost}:${portOf(ingest.srt)}` } : {}),
    },
    nodes: {
      add: async (entry: NodeEntry) => {
        let e = entry;
        if (!e.vpnAddress && e.publicKey && vpn && 'allocate' in vpn) {
          const alloc = await (vpn as Vpn & { allocate(n: string, k?: string): Promise<{ address: string }> }).allocate(e.name, e.publicKey);
          e = { ...e, vpnAddress: alloc.address };
        }
        const next = await updateConfigFile(l.loaded.file, addNodeEntry(e), l.plugins);
        await haven.applyConfig(next);
        const node = haven.services.registry?.get(e.name);
        if (!node) throw new HavenError(`node "${e.name}" was written but is not registered`, { code: 'NODE_UNKNOWN' });
        return node;
      },
      remove: async (name: string) => {
        if (!haven.services.registry?.get(name) || haven.services.registry.get(name)?.origin) return false;
        const next = await updateConfigFile(l.loaded.file, removeNodeEntry(name), l.plugins);
        await haven.applyConfig(next);
        return true;
      },
    },
  });
  const api = createControlApi(deps, {
    listen: cfg.api.listen,
    token,
    nodeReportToken: () => haven.secrets().relayPassword,
    ...(vpn ? { reportListen: `${vpn.address()}:${REPORT_PORT}` } : {}),
    logger: haven.logger.child({ area: 'api' }),
    viewerUser: cfg.viewer.user,
  });
  await api.start();
  return api;
}

/** A node reports its readers to the origin and follows the origin's viewer password. */
function startNodeReporter(haven: Haven, join: JoinState): NodeReporter & { stop(): Promise<void> } {
  const media = haven.provided.mediaServer;
  const reporter = createNodeReporter({
    url: join.reportUrl,
    token: () => haven.secrets().relayPassword,
    node: haven.config.name,
    logger: haven.logger.child({ area: 'report' }),
    collect: async () =>
      Promise.all(
        haven.config.streams.map(async (s) => {
          const st = await media!.stats(s.name);
          return {
            name: s.name,
            ready: st.ready,
            readers: st.readers,
            bytesIn: st.bytesIn,
            bytesOut: st.bytesOut,
            ...(st.readerAddresses ? { readerAddresses: st.readerAddresses } : {}),
          };
        }),
      ),
  });
  reporter.start();
  let closed = false;
  const follow = async () => {
    try {
      const res = await fetch(new URL('/api/node-secrets', join.reportUrl), {
        headers: { authorization: `Bearer ${haven.secrets().relayPassword}` },
        signal: AbortSignal.timeout(5000),
      });
      if (res.ok) {
        const body = (await res.json()) as { viewerPassword?: string };
        if (body.viewerPassword && body.viewerPassword !== haven.secrets().viewerPassword) {
          await haven.adoptSecrets({ viewerPassword: body.viewerPassword });
          haven.logger.info('viewer password updated from the origin');
        }
      }
    } catch {
      // The origin is unreachable for now; the reporter logs that once.
    }
  };
  const timer = setInterval(() => void follow(), 10_000);
  timer.unref();
  void follow();
  return {
    ...reporter,
    async stop() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await reporter.stop();
    },
  };
}
