import { loadConfig, type HavenPlugin, type LoadedConfig } from '@haven/core';
import { containerBinds, withHost } from './container-binds.js';
import { type Home, peekConfig, requireConfig } from './home.js';
import { readJoinState, type JoinState } from './join-state.js';
import { selectPlugins } from './plugins.js';

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
  const choice = { role: peek.role, sections: peek.plugins, hasNodes: peek.hasNodes, settings: peek.settings };
  const first = await loadConfig(home.configFile, selectPlugins(choice));
  const join = first.config.role === 'node' ? await readJoinState(first.stateDir) : undefined;
  const ingestBind = containerBinds().ingest;
  // Ports as haven.yaml sets them (MediaMTX's defaults otherwise); only the host is the container's.
  const mtx = (first.pluginOptions.mediamtx ?? {}) as { rtmpAddress?: string; srtAddress?: string };
  const ingest = ingestBind ? { rtmpAddress: withHost(mtx.rtmpAddress ?? ':1935', ingestBind), srtAddress: withHost(mtx.srtAddress ?? ':8890', ingestBind) } : undefined;
  const plugins = selectPlugins({ ...choice, join, ingest });
  const loaded = await loadConfig(home.configFile, plugins);
  return { home, loaded, plugins, join };
}
