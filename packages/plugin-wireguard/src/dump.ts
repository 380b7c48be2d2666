/** One peer line of `wg show <if> dump`. */
export interface DumpPeer {
  publicKey: string;
  endpoint?: string;
  allowedIps: string[];
  /** Unix seconds of the latest handshake; 0 when there never was one. */
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
  persistentKeepalive?: number;
}

/** The interface line (its private key is dropped while parsing) and the peers. */
export interface WgDump {
  publicKey: string;
  listenPort: number;
  peers: DumpPeer[];
}

const num = (v: string | undefined): number => {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
};

/**
 * Parse `wg show <if> dump`. Its first line starts with the interface's PRIVATE key: it is
 * discarded here and the raw text must never be logged or kept.
 */
export function parseDump(text: string): WgDump {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = (lines.shift() ?? '').split('\t');
  const out: WgDump = { publicKey: head[1] ?? '', listenPort: num(head[2]), peers: [] };
  for (const l of lines) {
    const f = l.split('\t');
    if (f.length < 8) continue;
    const peer: DumpPeer = {
      publicKey: f[0]!,
      allowedIps: f[3] === '(none)' || !f[3] ? [] : f[3].split(','),
      latestHandshake: num(f[4]),
      rxBytes: num(f[5]),
      txBytes: num(f[6]),
    };
    if (f[2] && f[2] !== '(none)') peer.endpoint = f[2];
    if (f[7] && f[7] !== 'off') peer.persistentKeepalive = num(f[7]);
    out.peers.push(peer);
  }
  return out;
}

/** Seconds since a handshake at `latestHandshake` (unix s); undefined when there never was one. */
export function handshakeAge(latestHandshake: number, nowMs = Date.now()): number | undefined {
  if (!latestHandshake) return undefined;
  return Math.max(0, Math.floor(nowMs / 1000) - latestHandshake);
}
