import type { MediaMtxApi } from './api.js';
import { normalizeIp, parseHostPort } from '@haven/core';
import { RELAY_USER } from './render.js';

/** `1.2.3.4:5678` / `[::1]:5678` -> the address alone. */
export function hostOfRemoteAddr(remote: string): string {
  return normalizeIp(parseHostPort(remote).host);
}

/** Addresses of RTSP sessions reading `stream` (relay pulls left out), at most 10,000; undefined when the API fails. */
export async function readerAddresses(api: MediaMtxApi, stream: string): Promise<string[] | undefined> {
  try {
    const list = await api.listRtspSessions();
    const out = new Set<string>();
    for (const x of list.items) {
      if (x.path !== stream || x.state !== 'read' || x.user === RELAY_USER || !x.remoteAddr) continue;
      out.add(hostOfRemoteAddr(x.remoteAddr));
      if (out.size >= 10_000) break;
    }
    return [...out];
  } catch {
    return undefined;
  }
}

/** How many relay pulls (nodes, over the VPN) read `stream` now; 0 when the API fails. */
export async function relayReaders(api: MediaMtxApi, stream: string): Promise<number> {
  try {
    const list = await api.listRtspSessions();
    return list.items.filter((x) => x.path === stream && x.user === RELAY_USER && x.state === 'read').length;
  } catch {
    return 0;
  }
}
