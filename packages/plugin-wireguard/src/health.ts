import type { HealthProbe, ProbeResult, Vpn, VpnPeerStatus } from '@haven/core';

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

export interface HandshakeProbeOptions extends HandshakeSignalOptions {
  /** One `wg show` answers every node probed within this many ms. Default 1000. */
  cacheMs?: number;
}

/**
 * A health probe for core: a node on the VPN whose WireGuard session is missing or stale cannot pull
 * the stream, whatever its public RTSP port says. Nodes without a key (not on the VPN) and the
 * origin pass. It cannot judge the stream itself, so `ready` follows `up`.
 */
export function handshakeProbe(vpn: Pick<Vpn, 'peers'>, options: HandshakeProbeOptions = {}): HealthProbe {
  const reader = handshakeSignal(vpn, options);
  const cacheMs = options.cacheMs ?? 1000;
  let cached: { at: number; map: Promise<Map<string, HandshakeSignal>> } | undefined;
  const snapshot = (): Promise<Map<string, HandshakeSignal>> => {
    if (!cached || Date.now() - cached.at > cacheMs) cached = { at: Date.now(), map: reader.all() };
    return cached.map;
  };
  return {
    name: 'wireguard-handshake',
    async probe({ node }, signal): Promise<ProbeResult> {
      if (node.origin || !node.publicKey) return { up: true, ready: true, rttMs: 0 };
      if (signal.aborted) return { up: false, ready: false, rttMs: 0, reason: 'aborted' };
      const started = Date.now();
      let s: HandshakeSignal | undefined;
      try {
        s = (await snapshot()).get(node.publicKey);
      } catch {
        cached = undefined;
        return { up: false, ready: false, rttMs: Date.now() - started, reason: 'vpn-down' };
      }
      const up = !!s?.up;
      const result: ProbeResult = { up, ready: up, rttMs: Date.now() - started };
      if (!up) result.reason = s?.reason ?? 'unknown-peer';
      return result;
    },
  };
}
