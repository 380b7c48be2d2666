import { csvLocator } from '@haven/custom-locator';
import type { HavenPlugin } from '@haven/core';
import { geoip } from '@haven/plugin-geo';
import { mediamtx, type MediamtxOptionsInput } from '@haven/plugin-mediamtx';
import { wireguard, type WireGuardOptionsInput } from '@haven/plugin-wireguard';
import { crossPluginSettings, type CrossPluginSettings } from './derived.js';
import type { JoinState } from './join-state.js';
import { originWireguard } from './origin-vpn.js';

/** Plugins the reference app knows, by their section name under `plugins:` in haven.yaml. */
export const KNOWN_PLUGINS = ['wireguard', 'mediamtx', 'geo', 'csv-locator'] as const;

export interface PluginChoice {
  role: string | undefined;
  sections: string[];
  hasNodes: boolean;
  join?: JoinState | undefined;
  /** Origin: the settings derived from the raw config (default: from the plugins' defaults). */
  settings?: CrossPluginSettings;
  /** Ingest listeners rebound for a container (`HAVEN_INGEST_BIND`, see container-binds.ts). */
  ingest?: { rtmpAddress: string; srtAddress: string } | undefined;
}

/**
 * The plugin list for a config: WireGuard first (the tunnel is up before MediaMTX pulls through
 * it), then MediaMTX, then one locator (the CSV example when configured, GeoIP otherwise).
 * WireGuard runs on a node that joined; an origin always has it, up once it has a node
 * (`originWireguard`), so the first `haven node add` brings the tunnel up live.
 */
export function selectPlugins(choice: PluginChoice): HavenPlugin[] {
  const list: HavenPlugin[] = [];
  const has = (n: string) => choice.sections.includes(n);
  if (choice.role === 'node') {
    if (choice.join) {
      const w: WireGuardOptionsInput = {
        subnet: choice.join.subnet,
        address: choice.join.node.address,
        origin: { ...choice.join.origin },
      };
      list.push(wireguard(w));
    } else if (has('wireguard')) list.push(wireguard());
  } else {
    list.push(originWireguard());
  }
  const mtx: MediamtxOptionsInput = { ...choice.ingest };
  if (choice.role !== 'node') {
    // The relay credential is accepted from the VPN subnet, whatever plugins.wireguard.subnet says.
    mtx.relaySubnets = (choice.settings ?? crossPluginSettings({ publicHost: '127.0.0.1' })).relaySubnets;
  }
  if (choice.role === 'node' && choice.join) {
    mtx.originRelay = { host: choice.join.relay.host, port: choice.join.relay.port };
    // Relay children (other nodes, over the VPN) pull from this node with the relay credential.
    mtx.relaySubnets = [choice.join.subnet];
    // The origin's HLS gateway fetches playlists here over the VPN and names its viewers in
    // X-Forwarded-For: trusted from the origin's VPN address only, never from its public address
    // (shared behind CGNAT, and anyone there could name any viewer).
    mtx.hlsTrustedProxies = [`${choice.join.origin.address}/32`];
  }
  list.push(mediamtx(mtx));
  if (has('csv-locator')) list.push(csvLocator());
  else if (choice.role !== 'node') list.push(geoip());
  return list;
}
