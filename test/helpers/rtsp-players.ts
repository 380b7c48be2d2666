import { media3Control, rfc2326Control, type DescribeBase } from './control-url.js';
import { authorizationFor, header, headers, RtspWire, sdpMedia, sdpTracks, splitUrl, type SdpMedia, type WireResponse } from './rtsp-wire.js';

/**
 * Client emulators of the players we cannot run here, each doing only what its source or spec says.
 * Each one SETUPs its tracks over TCP interleaved (media3 all of them, the PC player only those it can
 * play), PLAYs, and counts RTP packets.
 */

export interface PlayResult {
  /** The player got RTP packets. */
  played: boolean;
  packets: number;
  /** 401 answers seen (a player asked for the password twice would show 2). */
  challenges: number;
  /** Every connection opened, in order: where the player went. */
  hops: Array<{ host: string; port: number }>;
  /** Where the packets came from. */
  playedFrom?: { host: string; port: number };
  /** Statuses of every response, in order. */
  statuses: number[];
  /** Authorization schemes the player sent, in order. */
  schemes: string[];
  /** The media sections of the SDP the player played (after any redirect). */
  tracks: SdpMedia[];
  /** The tracks the player SETUP, in order. */
  setupTracks: SdpMedia[];
  /** From the player's first connect to its first RTP packet, ms. */
  firstPacketMs?: number;
  /** From the player's first connect to the answer to its PLAY (the handshake alone), ms. */
  playAnsweredMs?: number;
  error?: string;
}

export interface PlayOptions {
  /** `rtsp://user:password@host:port/stream`. */
  url: string;
  userAgent: string;
  /** Bind the client side to this address (loopback aliases stand for other viewers). */
  localAddress?: string;
  /** Stop after this many RTP packets. Default 30. */
  packets?: number;
  /** Give up waiting for packets after this long, ms. Default 15000. */
  waitMs?: number;
  /**
   * Keep reading instead of counting `packets`: called once PLAY is answered (with the hops so far),
   * the connection stays open until it resolves (a long-running reader, e.g. the crowd benchmark's).
   */
  hold?: (wire: RtspWire, sofar: PlayResult) => Promise<void>;
  /**
   * Told of each step as the player takes it (`connect`, a request's method, `redirect` with the
   * `Location`'s host, `hold` once PLAY is answered): where a reader that never finishes is waiting.
   * Observes only; the player does the same with or without it.
   */
  onStage?: (stage: string, host: string) => void;
  /**
   * While holding after PLAY, the keep-alive the player sends with the session and its credentials,
   * every `every` times the session timeout of the SETUP answer's `Session: ...;timeout=N` (60 s when
   * absent, RFC 2326 12.37): media3 `OPTIONS` at 1/2 (RtspClient.KeepAliveMonitor, `sessionTimeoutMs /
   * DEFAULT_RTSP_KEEP_ALIVE_INTERVAL_DIVISOR` = 2, androidx/media#662); FFmpeg `GET_PARAMETER` (when
   * OPTIONS listed it) at 1/2 (libavformat/rtspdec.c `rtsp_read_packet`: `rt->timeout / 2`); Media
   * Foundation `GET_PARAMETER` ([MS-RTSP] 2.2.7.5) at the full timeout (gortsplib #932, "Media
   * Foundation-based software ... send keepalives at an interval equal the timeout value", which is why
   * MediaMTX announces 5 s less than its 60 s idle timeout). None by default. MediaMTX v1.21.0 closes a
   * playing TCP session that sends nothing for 60 s (test/mediamtx/idle-readers.test.ts).
   */
  keepAlive?: { method: 'OPTIONS' | 'GET_PARAMETER'; every: number };
}

function schemeOf(a: string | undefined): string | undefined {
  return a ? (/^(\w+)/.exec(a)?.[1] ?? '').toLowerCase() : undefined;
}

function baseOf(d: WireResponse, request: string): DescribeBase {
  const b: DescribeBase = { request };
  const cb = header(d, 'content-base');
  const cl = header(d, 'content-location');
  if (cb) b.contentBase = cb;
  if (cl) b.contentLocation = cl;
  return b;
}

/** SETUP every track over TCP interleaved, PLAY, count RTP. */
async function setupAndPlay(
  wire: RtspWire,
  trackUris: string[],
  sessionUri: string,
  auth: (method: string, uri: string) => Array<[string, string]>,
  ua: string,
  o: PlayOptions,
  out: PlayResult & { startedAt: number },
): Promise<void> {
  let session: string | undefined;
  let timeoutSec = 60;
  for (const [i, uri] of trackUris.entries()) {
    o.onStage?.('SETUP', wire.host);
    const r = await wire.request('SETUP', uri, [
      ['User-Agent', ua],
      ['Transport', `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`],
      ...(session ? ([['Session', session]] as Array<[string, string]>) : []),
      ...auth('SETUP', uri),
    ]);
    out.statuses.push(r.status);
    if (r.status !== 200) throw new Error(`SETUP ${r.status}`);
    const sh = header(r, 'session');
    session = sh?.split(';')[0];
    timeoutSec = Number(/;\s*timeout=(\d+)/i.exec(sh ?? '')?.[1] ?? timeoutSec);
  }
  o.onStage?.('PLAY', wire.host);
  const play = await wire.request('PLAY', sessionUri, [['User-Agent', ua], ['Range', 'npt=0.000-'], ...(session ? ([['Session', session]] as Array<[string, string]>) : []), ...auth('PLAY', sessionUri)]);
  out.statuses.push(play.status);
  if (play.status !== 200) throw new Error(`PLAY ${play.status}`);
  out.playAnsweredMs = performance.now() - out.startedAt;
  if (o.hold) {
    out.playedFrom = { host: wire.host, port: wire.port };
    o.onStage?.('hold', wire.host);
    const ka = o.keepAlive;
    const timer = ka
      ? setInterval(() => {
          const extra: Array<[string, string]> = [['User-Agent', ua], ...(session ? ([['Session', session]] as Array<[string, string]>) : []), ...auth(ka.method, sessionUri)];
          wire.request(ka.method, sessionUri, extra).catch(() => undefined);
        }, timeoutSec * 1000 * ka.every)
      : undefined;
    try {
      await o.hold(wire, out);
    } finally {
      clearInterval(timer);
    }
  }
  out.packets = o.hold ? wire.rtp : await wire.waitRtp(o.packets ?? 30, o.waitMs ?? 15_000);
  if (wire.firstRtpAt !== undefined) out.firstPacketMs = wire.firstRtpAt - out.startedAt;
  out.played = out.packets > 0;
  out.playedFrom = { host: wire.host, port: wire.port };
}

/** What Media Foundation's RTSP source SETUPs (the rtpmap encodings it decodes). */
const MS_RTSP_PLAYABLE = /^(H264|MPEG4-GENERIC|L16)\//i;

function newResult(): PlayResult & { startedAt: number } {
  return { played: false, packets: 0, challenges: 0, hops: [], statuses: [], schemes: [], tracks: [], setupTracks: [], startedAt: performance.now() };
}

/**
 * androidx/media3 `RtspClient` (libraries/exoplayer_rtsp/src/main/java/androidx/media3/exoplayer/rtsp/RtspClient.java,
 * `MessageListener.handleRtspResponse`), as VRChat on Quest/Android plays RTSP through AVPro:
 * - OPTIONS first, DESCRIBE when `Public` lists it (`onOptionsResponseReceived`).
 * - 401 with user-info and no earlier challenge: parse every `WWW-Authenticate`, prefer DIGEST
 *   ("Prefers DIGEST when RTSP servers sends both BASIC and DIGEST auth info"), retry the last
 *   request once (`receivedAuthorizationRequest = true`); a second 401 is a playback error.
 * - 301/302: `uri = removeUserInfo(Location)`, `rtspAuthUserInfo = parseUserInfo(Location)` (none
 *   there: no Authorization from then on), and `sendDescribeRequest(uri)` on the SAME socket; it
 *   never connects to the Location's host (androidx/media#1725).
 * - Track URIs: `RtspMediaTrack.extractTrackUri` (see `media3Control`: Content-Base, else
 *   Content-Location, else the session URI, then `appendEncodedPath(control)`), SETUP
 *   `RTP/AVP/TCP;unicast;interleaved=..`, PLAY `Range: npt=0.000-` on the session URI.
 * User-Agent: `AndroidXMedia3/<version>` (`MediaLibraryInfo.VERSION_SLASHY`).
 */
export async function playMedia3(o: PlayOptions): Promise<PlayResult> {
  const out = newResult();
  const start = splitUrl(o.url);
  let uri = start.uri;
  let userInfo = start.user !== undefined ? { user: start.user, password: start.password ?? '' } : undefined;
  let challenge: string | undefined;
  let receivedAuthorizationRequest = false;
  o.onStage?.('connect', start.host);
  const wire = await RtspWire.open(start.host, start.port, o.localAddress);
  out.hops.push({ host: start.host, port: start.port });
  const auth = (method: string, u: string): Array<[string, string]> => {
    if (!challenge || !userInfo) return [];
    const a = authorizationFor(challenge, method, u, userInfo.user, userInfo.password);
    out.schemes.push(schemeOf(a) ?? '');
    return [['Authorization', a]];
  };
  const send = async (method: string, u: string, extra: Array<[string, string]> = []): Promise<WireResponse> => {
    for (;;) {
      o.onStage?.(method, wire.host);
      const r = await wire.request(method, u, [['User-Agent', o.userAgent], ...extra, ...auth(method, u)]);
      out.statuses.push(r.status);
      if (r.status === 401) {
        out.challenges++;
        if (userInfo && !receivedAuthorizationRequest) {
          const all = headers(r, 'www-authenticate');
          challenge = all.find((c) => /^digest/i.test(c)) ?? all.at(-1);
          receivedAuthorizationRequest = true;
          continue;
        }
      }
      return r;
    }
  };
  try {
    const opt = await send('OPTIONS', uri);
    if (opt.status !== 200 || !/DESCRIBE/.test(header(opt, 'public') ?? '')) throw new Error(`OPTIONS ${opt.status}`);
    let d = await send('DESCRIBE', uri, [['Accept', 'application/sdp']]);
    for (let redirects = 0; (d.status === 301 || d.status === 302) && redirects < 5; redirects++) {
      const loc = header(d, 'location');
      if (!loc) throw new Error('Redirection without new location.');
      const next = splitUrl(loc);
      o.onStage?.('redirect', next.host);
      uri = next.uri;
      userInfo = next.user !== undefined ? { user: next.user, password: next.password ?? '' } : undefined;
      d = await send('DESCRIBE', uri, [['Accept', 'application/sdp']]);
    }
    if (d.status !== 200) throw new Error(`DESCRIBE ${d.status}`);
    out.tracks = sdpMedia(d.body);
    out.setupTracks = out.tracks;
    const base = baseOf(d, uri);
    const tracks = sdpTracks(d.body).map((c) => media3Control(base, c));
    await setupAndPlay(wire, tracks, uri, auth, o.userAgent, o, out);
  } catch (err) {
    out.error = (err as Error).message;
  } finally {
    wire.close();
  }
  return out;
}

/**
 * Windows Media Foundation's RTSP client as [MS-RTSP] specifies it (VRChat on PC: AVPro opens
 * `rtspt://` "with API MediaFoundation"). [MS-RTSP] section 3.2.5, "Receiving a Describe Response":
 * a 300-305 answer to DESCRIBE means the client MUST close the TCP connection and open a new one to
 * the URL in `Location`. Requests follow RFC 2326: OPTIONS then DESCRIBE on each connection, a 401
 * answered once per connection with the credentials the user gave (Digest when offered), track
 * URIs resolved by RFC 2326 C.1.1 (see `rfc2326Control`: Content-Base, else Content-Location, else the
 * URL asked; generic relative resolution), SETUP over TCP interleaved (`rtspt`) of the
 * tracks Media Foundation can decode and only those (H.264 video, AAC `MPEG4-GENERIC` or LPCM `L16`
 * audio: DESIGN.md "What VRChat's players accept": with H.264 + Opus it SETUPs the video alone), PLAY.
 * `give-up` stops after the 3xx instead (a player that cannot follow a redirect at all).
 */
export async function playMsRtsp(o: PlayOptions & { onRedirect?: 'follow' | 'give-up'; basicOnly?: boolean }): Promise<PlayResult> {
  const out = newResult();
  const first = splitUrl(o.url);
  const creds = first.user !== undefined ? { user: first.user, password: first.password ?? '' } : undefined;
  let target = first;
  for (let hop = 0; hop < 4; hop++) {
    out.hops.push({ host: target.host, port: target.port });
    let wire: RtspWire;
    o.onStage?.('connect', target.host);
    try {
      wire = await RtspWire.open(target.host, target.port, o.localAddress);
    } catch (err) {
      // Refused, reset, unreachable: the player reports it and stops (no retry of its own).
      out.error = `connect ${target.host}:${target.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      return out;
    }
    let challenge: string | undefined;
    const auth = (method: string, u: string): Array<[string, string]> => {
      if (!challenge || !creds) return [];
      const a = authorizationFor(challenge, method, u, creds.user, creds.password);
      out.schemes.push(schemeOf(a) ?? '');
      return [['Authorization', a]];
    };
    const send = async (method: string, u: string, extra: Array<[string, string]> = []): Promise<WireResponse> => {
      let asked = false;
      for (;;) {
        o.onStage?.(method, wire.host);
        const r = await wire.request(method, u, [['User-Agent', o.userAgent], ...extra, ...auth(method, u)]);
        out.statuses.push(r.status);
        if (r.status !== 401) return r;
        out.challenges++;
        if (asked || !creds) return r;
        const all = headers(r, 'www-authenticate');
        challenge = o.basicOnly ? all.find((c) => /^basic/i.test(c)) : (all.find((c) => /^digest/i.test(c)) ?? all.find((c) => /^basic/i.test(c)));
        if (!challenge) return r;
        asked = true;
      }
    };
    try {
      const opt = await send('OPTIONS', target.uri);
      if (opt.status !== 200) throw new Error(`OPTIONS ${opt.status}`);
      const d = await send('DESCRIBE', target.uri, [['Accept', 'application/sdp']]);
      if (d.status >= 300 && d.status <= 305) {
        wire.close();
        const loc = header(d, 'location');
        if (o.onRedirect === 'give-up' || !loc) {
          out.error = `gave up after ${d.status}`;
          return out;
        }
        target = splitUrl(loc);
        o.onStage?.('redirect', target.host);
        continue;
      }
      if (d.status !== 200) throw new Error(`DESCRIBE ${d.status}`);
      const base = baseOf(d, target.uri);
      out.tracks = sdpMedia(d.body);
      out.setupTracks = out.tracks.filter((t) => MS_RTSP_PLAYABLE.test(t.rtpmap));
      await setupAndPlay(wire, out.setupTracks.map((t) => rfc2326Control(base, t.control)), rfc2326Control(base, '*'), auth, o.userAgent, o, out);
      return out;
    } catch (err) {
      out.error = (err as Error).message;
      return out;
    } finally {
      wire.close();
    }
  }
  out.error = 'too many redirects';
  return out;
}
