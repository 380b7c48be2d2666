/**
 * A minimal stand-in for what VRChat PC's player (AVPro on Windows Media Foundation, which speaks
 * RTSP as [MS-RTSP]) does with a stream's tracks: DESCRIBE, then SETUP of each track it can play and
 * only those (H.264 video; AAC "MPEG4-GENERIC" or LPCM "L16" audio), over TCP interleaved. Which tracks
 * it takes comes from the issue's evidence (issue 17, DESIGN.md "What VRChat's players accept"): with
 * H.264 + Opus it SETUPs the video alone. Engineer 14's full MS-RTSP emulator was not in test/helpers
 * when this was written; this does only DESCRIBE and SETUP, the part that decides the tracks.
 * RTSP 1.0 is RFC 2326 (DESCRIBE §10.2, SETUP §10.4, interleaved transport §10.12).
 */
import { connect } from 'node:net';

export interface SdpTrack {
  media: 'video' | 'audio' | string;
  /** `H264/90000`, `MPEG4-GENERIC/48000/2`, `opus/48000/2`... */
  rtpmap: string;
  control: string;
}

export interface SetupResult {
  tracks: SdpTrack[];
  /** Tracks the player SETUP, with the server's status code. */
  setups: Array<{ track: SdpTrack; status: number }>;
}

const PLAYABLE = /^(H264|MPEG4-GENERIC|L16)\//i;

export function parseSdp(sdp: string): SdpTrack[] {
  const tracks: SdpTrack[] = [];
  let cur: SdpTrack | undefined;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      cur = { media: line.slice(2).split(' ')[0]!, rtpmap: '', control: '' };
      tracks.push(cur);
    } else if (cur && line.startsWith('a=rtpmap:')) cur.rtpmap = line.replace(/^a=rtpmap:\d+\s+/, '');
    else if (cur && line.startsWith('a=control:')) cur.control = line.slice('a=control:'.length);
  }
  return tracks;
}

/** DESCRIBE `url` (credentials in it, Basic), then SETUP every playable track in order. */
export async function msRtspSetup(url: string, timeoutMs = 15_000): Promise<SetupResult> {
  const u = new URL(url);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  const base = `rtsp://${u.host}${u.pathname}`;
  const sock = connect(Number(u.port), u.hostname);
  sock.setTimeout(timeoutMs, () => sock.destroy(new Error('RTSP timeout')));
  let buf = Buffer.alloc(0);
  const waiters: Array<() => void> = [];
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    waiters.splice(0).forEach((w) => w());
  });
  const failed = new Promise<never>((_, reject) => sock.once('error', reject));
  let cseq = 0;
  let session: string | undefined;
  async function request(method: string, target: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    cseq++;
    const lines = [`${method} ${target} RTSP/1.0`, `CSeq: ${cseq}`, `Authorization: ${auth}`, 'User-Agent: NSPlayer/12.00.19041.5072 WMFSDK/12.00.19041.5072'];
    if (session) lines.push(`Session: ${session}`);
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    sock.write(`${lines.join('\r\n')}\r\n\r\n`);
    for (;;) {
      // Skip interleaved RTP frames ($ + channel + length) that may precede the answer.
      while (buf.length >= 4 && buf[0] === 0x24) {
        const len = buf.readUInt16BE(2);
        if (buf.length < 4 + len) break;
        buf = buf.subarray(4 + len);
      }
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0 && buf[0] !== 0x24) {
        const head = buf.subarray(0, end).toString('latin1').split('\r\n');
        const hs: Record<string, string> = {};
        for (const l of head.slice(1)) {
          const i = l.indexOf(':');
          if (i > 0) hs[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        const len = Number(hs['content-length'] ?? 0);
        if (buf.length >= end + 4 + len) {
          const body = buf.subarray(end + 4, end + 4 + len).toString('utf8');
          buf = buf.subarray(end + 4 + len);
          return { status: Number(head[0]!.split(' ')[1]), headers: hs, body };
        }
      }
      await Promise.race([new Promise<void>((r) => waiters.push(r)), failed]);
    }
  }
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const d = await request('DESCRIBE', base, { Accept: 'application/sdp' });
    if (d.status !== 200) throw new Error(`DESCRIBE answered ${d.status}`);
    const tracks = parseSdp(d.body);
    const setups: SetupResult['setups'] = [];
    let channel = 0;
    for (const track of tracks.filter((t) => PLAYABLE.test(t.rtpmap))) {
      const target = /^rtsp:/i.test(track.control) ? track.control : `${(d.headers['content-base'] ?? `${base}/`).replace(/\/?$/, '/')}${track.control}`;
      const r = await request('SETUP', target, { Transport: `RTP/AVP/TCP;unicast;interleaved=${channel}-${channel + 1}` });
      channel += 2;
      if (r.headers.session) session = r.headers.session.split(';')[0];
      setups.push({ track, status: r.status });
    }
    if (session) await request('TEARDOWN', base).catch(() => undefined);
    return { tracks, setups };
  } finally {
    sock.destroy();
  }
}
