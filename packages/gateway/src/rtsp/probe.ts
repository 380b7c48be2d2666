import { type HealthProbe, normalizeIp, type ProbeResult, type ProbeTarget, trimBase } from '@haven/core';
import { TOKEN_PARAM } from '../auth/token.js';
import { PROBE_HEADER } from '../auth/probe-token.js';
import { digestResponse, parseAuthParams, type ViewerCredentials } from '../auth/digest.js';
import { type RtspClientConnection, getHeader, getHeaders, type RtspResponse } from './client.js';
import { KeptProbeConnections, type KeptProbeStats, shortReason } from './kept-probes.js';

/** The User-Agent of the Haven's own probes (a name only: a node knows them by their credential, `PROBE_HEADER`). */
export const PROBE_USER_AGENT = 'StreamHaven-probe/1';

export interface RtspProbeOptions {
  /** The viewer credentials nodes accept, read at every probe (rotation takes effect at once). */
  credentials: () => ViewerCredentials | undefined;
  /**
   * A signed viewer token for this probe (see `signViewerToken`), bound to the address the node
   * sees (this side of the connection), the stream and the node. When given, the probe asks with the
   * token first and sends no password; only a node that refuses it (a NAT between, an old node) gets
   * the credentials.
   */
  token?: (claims: { ip: string; stream: string; node: string }) => string | undefined;
  /** User-Agent the probe sends. Default `StreamHaven-probe/1`. */
  userAgent?: string;
  /**
   * The probe credential for a node (`probeTokens`): sent on every request, so the node's gateway knows
   * its prober (serves it there, keeps its connection) whatever address a NAT shows it. Default: none.
   */
  probeToken?: (node: string) => string | undefined;
}

/** The probe's own headers: User-Agent and, when there is one, the probe credential. */
function probeHeaders(ua: string, node: string, probeToken: ((node: string) => string | undefined) | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [['User-Agent', ua]];
  const t = probeToken?.(node);
  if (t) out.push([PROBE_HEADER, t]);
  return out;
}

function basic(c: ViewerCredentials): string {
  return `Basic ${Buffer.from(`${c.user}:${c.password}`).toString('base64')}`;
}

function digestFor(res: RtspResponse, c: ViewerCredentials, method: string, uri: string): string | undefined {
  const ch = getHeaders(res, 'www-authenticate').find((v) => /^digest\s/i.test(v));
  if (!ch) return undefined;
  const p = parseAuthParams(ch.slice(7));
  const realm = p.get('realm') ?? '';
  const nonce = p.get('nonce') ?? '';
  const response = digestResponse({ user: c.user, password: c.password, realm, nonce, method, uri });
  return `Digest username="${c.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}"`;
}

/** An RTSP health probe over kept connections (see `KeptProbeConnections`). */
export interface RtspHealthProbe extends HealthProbe {
  /** Connects, reuses and retries so far, and connections open now. */
  stats(): KeptProbeStats;
  /** End the kept connections (the monitor stopped). */
  close(): void;
}

/**
 * Ask over the kept connection to the node's advertised RTSP address (see `KeptProbeConnections`). A
 * failure to connect or an error while asking is `up: false` with a short reason (`timeout`, the code).
 */
async function probeOver(
  conns: KeptProbeConnections,
  rtspUrl: string,
  signal: AbortSignal,
  ask: (conn: RtspClientConnection, rtt: () => number) => Promise<ProbeResult>,
): Promise<ProbeResult> {
  const t0 = performance.now();
  const rtt = () => Math.round((performance.now() - t0) * 100) / 100;
  try {
    return await conns.run(rtspUrl, signal, (conn) => ask(conn, rtt));
  } catch (e) {
    return { up: false, ready: false, rttMs: rtt(), reason: shortReason(signal.aborted ? signal.reason : e) };
  }
}

/**
 * The default health probe: RTSP `DESCRIBE` of the stream on the node's advertised address, with
 * the viewer credentials (Basic first; a Digest challenge is answered once). `up` when the node
 * answers RTSP at all, `ready` when the DESCRIBE returns 200 with an SDP that has a media line.
 */
export function rtspProbe(options: RtspProbeOptions): RtspHealthProbe {
  const ua = options.userAgent ?? PROBE_USER_AGENT;
  const conns = new KeptProbeConnections();
  return {
    name: 'rtsp',
    stats: () => conns.stats(),
    close: () => conns.close(),
    async probe({ node, stream }: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
      return probeOver(conns, node.rtspUrl, signal, async (conn, rtt) => {
        const uri = `${trimBase(node.rtspUrl)}/${stream}`;
        const creds = options.credentials();
        const base: Array<[string, string]> = [...probeHeaders(ua, node.name, options.probeToken), ['Accept', 'application/sdp']];
        const token = options.token?.({ ip: normalizeIp(conn.localAddress), stream, node: node.name });
        let res = token
          ? await conn.request('DESCRIBE', `${uri}?${TOKEN_PARAM}=${token}`, base)
          : await conn.request('DESCRIBE', uri, creds ? [...base, ['Authorization', basic(creds)]] : base);
        const firstRtt = rtt();
        if (token && res.status === 401 && creds) res = await conn.request('DESCRIBE', uri, [...base, ['Authorization', basic(creds)]]);
        if (res.status === 401 && creds) {
          const digest = digestFor(res, creds, 'DESCRIBE', uri);
          if (digest) res = await conn.request('DESCRIBE', uri, [...base, ['Authorization', digest]]);
        }
        const sdp = res.status === 200 && /application\/sdp/i.test(getHeader(res, 'content-type') ?? '') ? res.body.toString('latin1') : '';
        const ready = /^m=/m.test(sdp);
        const result: ProbeResult = { up: true, rttMs: firstRtt, ready };
        if (!ready) result.reason = res.status === 200 ? 'no media in SDP' : `${res.status} ${res.reason}`.trim();
        return result;
      });
    },
  };
}

/**
 * Is anything serving RTSP at the node's advertised address right now? One `OPTIONS` (any answer is
 * up; a refused or reset connection is a dead node, see `HealthMonitor`). Readiness is not its
 * question (`ready` = `up`): an entry node combines it with the origin's view of the node, which lags
 * by a probe round and a state poll, so that a node that just died is never a redirect target.
 */
export function rtspAliveProbe(options: Pick<RtspProbeOptions, 'userAgent' | 'probeToken'> = {}): RtspHealthProbe {
  const ua = options.userAgent ?? PROBE_USER_AGENT;
  const conns = new KeptProbeConnections();
  return {
    name: 'rtsp-alive',
    stats: () => conns.stats(),
    close: () => conns.close(),
    async probe({ node }: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
      return probeOver(conns, node.rtspUrl, signal, async (conn, rtt) => {
        await conn.request('OPTIONS', trimBase(node.rtspUrl), probeHeaders(ua, node.name, options.probeToken));
        return { up: true, ready: true, rttMs: rtt() };
      });
    },
  };
}
