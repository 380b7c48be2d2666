import type { MediaMtxApi } from './api.js';
import { normalizeIp } from './net.js';
import { RELAY_USER } from './render.js';

/** `1.2.3.4:5678` / `[::1]:5678` -> the address alone. */
export function hostOfRemoteAddr(remote: string): string {
  const v6 = /^\[([^\]]+)\]:\d+$/.exec(remote);
  if (v6) return normalizeIp(v6[1] as string);
  const i = remote.lastIndexOf(':');
  return normalizeIp(i > 0 && remote.indexOf(':') === i ? remote.slice(0, i) : remote);
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
