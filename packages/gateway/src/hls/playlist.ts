import { type HavenNode, trimBase } from '@haven/core';
import { fetchText } from './fetch.js';

/** Make every URI of a playlist (lines and `URI="..."` attributes) absolute against `base`. */
export function absolutizePlaylist(text: string, base: string): string {
  const abs = (ref: string) => {
    try {
      return new URL(ref, base).toString();
    } catch {
      return ref;
    }
  };
  return text
    .split(/\r?\n/)
    .map((line) => {
      const t = line.trim();
      if (t === '') return t;
      if (t.startsWith('#')) return t.replace(/URI="([^"]*)"/g, (_m, ref: string) => `URI="${abs(ref)}"`);
      return abs(t);
    })
    .join('\n');
}

export interface NodePlaylistRequest {
  node: HavenNode;
  stream: string;
  /** The viewer's own query (tokens...), passed on. */
  query: URLSearchParams;
  /** `Authorization` to present at the node (the viewer's). */
  authorization: string;
  /** The viewer's address, for the node's session binding (`hlsTrustedProxies` on the node). */
  viewerIp: string;
  timeoutMs: number;
}

/**
 * Where the origin fetches a node's playlist from: over the VPN (the node's VPN address, same port)
 * when the node has one and serves plain HTTP, so the node can trust `X-Forwarded-For` from VPN
 * addresses alone; else its public URL, and then no `X-Forwarded-For` is sent (a public address may be
 * shared, behind CGNAT, and no node trusts it).
 */
export function playlistFetchUrl(publicUrl: string, node: Pick<HavenNode, 'vpnAddress'>): { url: string; viaVpn: boolean } {
  const u = new URL(publicUrl);
  if (!node.vpnAddress || u.protocol !== 'http:') return { url: publicUrl, viaVpn: false };
  u.hostname = node.vpnAddress.includes(':') ? `[${node.vpnAddress}]` : node.vpnAddress;
  return { url: u.toString(), viaVpn: true };
}

/**
 * Fetch the node's own multivariant playlist for this viewer and return it with absolute URIs (its
 * public address), so the player reads media playlists and segments straight from the node. MediaMTX
 * (>= 1.20) opens an HLS session per playlist request, bound to the client IP it sees: fetched over
 * the VPN, the node trusts the origin's VPN address in `hlsTrustedProxies` and `X-Forwarded-For` binds
 * the session to the viewer. `cookieCheck=1` skips MediaMTX's cookie probe redirect, so the session id
 * travels in the URIs' query.
 */
export async function fetchNodePlaylist(r: NodePlaylistRequest): Promise<string | undefined> {
  if (!r.node.hlsUrl) return undefined;
  const q = new URLSearchParams(r.query);
  q.delete('session');
  q.set('cookieCheck', '1');
  const url = `${trimBase(r.node.hlsUrl)}/${r.stream}/index.m3u8?${q.toString()}`;
  const at = playlistFetchUrl(url, r.node);
  const headers: Record<string, string> = { Authorization: r.authorization, 'User-Agent': 'StreamHaven-gateway' };
  if (at.viaVpn) headers['X-Forwarded-For'] = r.viewerIp;
  const res = await fetchText(at.url, headers, r.timeoutMs);
  if (res.status !== 200 || !res.body.startsWith('#EXTM3U')) return undefined;
  return absolutizePlaylist(res.body, url);
}
