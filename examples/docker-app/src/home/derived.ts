import { ORIGIN_RTSP_ADDRESS } from '@haven/plugin-mediamtx';
import { firstHost, parseSubnet, wireguardOptionsSchema } from '@haven/plugin-wireguard';
import { joinHostPort, parseHostPort } from '@haven/core';

/** The origin's node-report listener port on its VPN address (the app's own listener). */
export const REPORT_PORT = 8881;

/**
 * Settings one plugin sets and another needs, computed in one place from the composed config:
 * the VPN subnet and the origin's address on it (WireGuard), the port nodes pull from over the VPN
 * (MediaMTX on the origin), and the subnets MediaMTX accepts the relay credential from (= the VPN).
 * Change `plugins.wireguard.subnet` or `plugins.mediamtx.rtspAddress` and every user follows.
 */
export interface CrossPluginSettings {
  vpn: {
    /** `10.77.0.0/24` by default. */
    subnet: string;
    /** The origin's address on the VPN (`plugins.wireguard.address`, else the subnet's first host). */
    originAddress: string;
    listenPort: number;
    /** What nodes dial: `plugins.wireguard.endpoint`, else `<public.host>:<listenPort>`. */
    endpoint: string;
  };
  /** Where nodes pull the stream over the VPN: the origin's MediaMTX RTSP listener. */
  relay: { host: string; port: number };
  /** Where the origin accepts node reports over the VPN. */
  report: { host: string; port: number; url: string };
  /** MediaMTX accepts the relay credential from here: the VPN subnet. */
  relaySubnets: string[];
}

export interface SettingsInput {
  publicHost: string;
  /** The `plugins.wireguard` section (raw or validated); absent = the plugin's defaults. */
  wireguard?: unknown;
  /** The `plugins.mediamtx` section (raw or validated). */
  mediamtx?: unknown;
}

/**
 * Derive the cross-plugin settings. A section that does not validate falls back to the defaults
 * here: config validation reports it with its line, this function never throws for it.
 */
export function crossPluginSettings(input: SettingsInput): CrossPluginSettings {
  const parsed = wireguardOptionsSchema.safeParse(input.wireguard ?? {});
  const wg = parsed.success ? parsed.data : wireguardOptionsSchema.parse({});
  const subnet = parseSubnet(wg.subnet);
  const originAddress = wg.address ?? firstHost(subnet);
  const mtx = (input.mediamtx && typeof input.mediamtx === 'object' ? input.mediamtx : {}) as { rtspAddress?: unknown; relaySubnets?: unknown };
  const rtspAddress = typeof mtx.rtspAddress === 'string' && /:\d+$/.test(mtx.rtspAddress) ? mtx.rtspAddress : ORIGIN_RTSP_ADDRESS;
  const relaySubnets = Array.isArray(mtx.relaySubnets) && mtx.relaySubnets.length > 0 ? (mtx.relaySubnets as string[]) : [subnet.cidr];
  return {
    vpn: { subnet: subnet.cidr, originAddress, listenPort: wg.listenPort, endpoint: wg.endpoint ?? joinHostPort(input.publicHost, wg.listenPort) },
    relay: { host: originAddress, port: parseHostPort(rtspAddress).port ?? 0 },
    report: { host: originAddress, port: REPORT_PORT, url: `http://${originAddress}:${REPORT_PORT}` },
    relaySubnets,
  };
}

/** The settings of a loaded origin config (its validated plugin sections). */
export function settingsOf(loaded: { config: { public: { host: string } }; pluginOptions: Record<string, unknown> }): CrossPluginSettings {
  return crossPluginSettings({ publicHost: loaded.config.public.host, wireguard: loaded.pluginOptions.wireguard, mediamtx: loaded.pluginOptions.mediamtx });
}
