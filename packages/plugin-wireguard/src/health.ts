import type { Vpn, VpnPeerStatus } from '@haven/core';

/** What the VPN says about one peer, for core's health monitor. */
export interface HandshakeSignal {
  publicKey: string;
  /** A handshake happened within `maxAgeSec`. */
  up: boolean;
  /** Seconds since the last handshake; undefined when there never was one. */
  ageSec?: number;
  /** Short, secret-free reason when not up. */
  reason?: 'unknown-peer' | 'no-handshake' | 'handshake-stale' | 'vpn-down';
  rxBytes: number;
  txBytes: number;
}

export interface HandshakeSignalOptions {
  /**
   * A session older than this is dead. WireGuard renews it every 2 minutes while traffic (or a
   * keepalive) flows and rejects it after 180 s. Default 180.
   */
  maxAgeSec?: number;
}

export interface HandshakeSignalReader {
  /** The signal for one peer. Never throws: a VPN that cannot be read reports `vpn-down`. */
  (publicKey: string): Promise<HandshakeSignal>;
  /** Every peer at once (one `wg show` call), keyed by public key. */
  all(): Promise<Map<string, HandshakeSignal>>;
}

function toSignal(p: VpnPeerStatus, maxAgeSec: number): HandshakeSignal {
  const s: HandshakeSignal = { publicKey: p.publicKey, up: false, rxBytes: p.rxBytes, txBytes: p.txBytes };
  if (p.lastHandshakeAgeSec === undefined) s.reason = 'no-handshake';
  else {
    s.ageSec = p.lastHandshakeAgeSec;
    s.up = p.lastHandshakeAgeSec <= maxAgeSec;
    if (!s.up) s.reason = 'handshake-stale';
  }
  return s;
}

/** Per-peer handshake freshness from any `Vpn`, for core to consult next to its RTSP probes. */
export function handshakeSignal(vpn: Pick<Vpn, 'peers'>, options: HandshakeSignalOptions = {}): HandshakeSignalReader {
  const maxAgeSec = options.maxAgeSec ?? 180;
  const all = async (): Promise<Map<string, HandshakeSignal>> => {
    const peers = await vpn.peers();
    return new Map(peers.map((p) => [p.publicKey, toSignal(p, maxAgeSec)]));
  };
  const one = async (publicKey: string): Promise<HandshakeSignal> => {
    let map: Map<string, HandshakeSignal>;
    try {
      map = await all();
    } catch {
      return { publicKey, up: false, reason: 'vpn-down', rxBytes: 0, txBytes: 0 };
    }
    return map.get(publicKey) ?? { publicKey, up: false, reason: 'unknown-peer', rxBytes: 0, txBytes: 0 };
  };
  return Object.assign(one, { all });
}
