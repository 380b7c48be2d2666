import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { playMedia3, playMsRtsp } from '../helpers/rtsp-players.js';
import { RtspWire, header } from '../helpers/rtsp-wire.js';
import { ffprobe, gstreamerRtsp, VIEWER } from '../gateway/helpers.js';
import { startEntries, type Entries } from './entries.js';

// The player matrix after a redirect from one app-built entry node (fra) to another (par), each a
// gateway in front of its own MediaMTX: the topology users run. Every viewer is in Paris, so fra sends
// it (302) to par with a token for par, and par's gateway splices it to par's MediaMTX.

describe('every player plays after a redirect from one entry node to another', () => {
  let h: Entries;
  const results: Record<string, string> = {};

  beforeAll(async () => {
    h = await startEntries();
  });
  afterAll(async () => {
    console.log(`player matrix (redirect fra -> par): ${JSON.stringify(results)}`);
    await h?.stop();
  });

  /** Every decision since `n`: fra redirected to par, par admitted the token and spliced. */
  const redirectedThenServed = (n: number) => {
    const mine = h.routed.slice(n);
    expect(mine.filter((e) => e.entry === 'fra').every((e) => e.mode === 'redirect' && e.node === 'par')).toBe(true);
    expect(mine.some((e) => e.entry === 'par' && e.mode === 'splice' && e.reason === 'token')).toBe(true);
  };
  /** par's MediaMTX admitted every request of the viewer by the gateway's token (never a password, never a refusal). */
  const readsAtPar = (n: number) => {
    const at = h.reads.slice(n).filter((x) => x.node === 'par');
    expect(at.length).toBeGreaterThanOrEqual(2); // DESCRIBE and SETUP at least
    expect(at.every((x) => x.allow && x.via === 'token')).toBe(true);
    expect(h.reads.slice(n).filter((x) => x.node === 'fra')).toEqual([]);
  };

  it('the Location names par with the token as its last path segment; par answers it with a Content-Base that names no token', async () => {
    const w = await RtspWire.open('127.0.0.1', h.ports.fra);
    let location = '';
    try {
      const auth = `Basic ${Buffer.from(`${VIEWER.user}:${VIEWER.password}`).toString('base64')}`;
      const r = await w.request('DESCRIBE', `rtsp://127.0.0.1:${h.ports.fra}/live`, [['User-Agent', 'Fetch/1'], ['Authorization', auth]]);
      expect(r.status).toBe(302);
      location = header(r, 'location') ?? '';
      expect(location).toMatch(new RegExp(`^rtsp://127\\.0\\.0\\.1:${h.ports.par}/live/token=v2\\.[0-9a-z]+\\.[A-Za-z0-9_-]{11}\\.[A-Za-z0-9_-]{86}$`));
    } finally {
      w.close();
    }
    const p = await RtspWire.open('127.0.0.1', h.ports.par);
    try {
      const d = await p.request('DESCRIBE', location, [['User-Agent', 'Fetch/1'], ['Accept', 'application/sdp']]);
      expect(d.status).toBe(200);
      expect(header(d, 'content-base')).toBe(`rtsp://127.0.0.1:${h.ports.par}/live/`);
      expect(d.body).toMatch(/^a=control:trackID=0\r?$/m);
      // Every client rule resolves `trackID=0` against that base to this URL (test/gateway/control-url.test.ts).
      const s = await p.request('SETUP', `rtsp://127.0.0.1:${h.ports.par}/live/trackID=0`, [['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1']]);
      expect(s.status).toBe(200);
    } finally {
      p.close();
    }
    // A client that ignores Content-Base and concatenates onto the Location (FFmpeg's rule without it).
    const q = await RtspWire.open('127.0.0.1', h.ports.par);
    try {
      const d = await q.request('DESCRIBE', location, [['User-Agent', 'Fetch/1']]);
      expect(d.status).toBe(200);
      const s = await q.request('SETUP', `${location}/trackID=0`, [['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1']]);
      expect(s.status).toBe(200);
    } finally {
      q.close();
    }
  });

  it('FFmpeg (real)', async () => {
    const n = h.routed.length;
    const m = h.reads.length;
    const r = await ffprobe(h.url('fra'));
    results.ffmpeg = r.code === 0 ? 'played' : `exit ${r.code}`;
    expect(r.code, r.stderr).toBe(0);
    expect(r.codecs).toContain('h264');
    redirectedThenServed(n);
    readsAtPar(m);
  });

  for (const [name, transports] of [['GStreamer rtspsrc over TCP', ['protocols=tcp']], ['GStreamer rtspsrc, default transports', []]] as const) {
    it(`${name} (real)`, async () => {
      const n = h.routed.length;
      const m = h.reads.length;
      const { last, tries } = await gstreamerRtsp(['-q', 'rtspsrc', `location=rtsp://127.0.0.1:${h.ports.fra}/live`, `user-id=${VIEWER.user}`, `user-pw=${VIEWER.password}`, ...transports, '!', 'identity', 'eos-after=10', '!', 'fakesink']);
      results[name] = last.code === 0 ? `played (${tries.length} attempt${tries.length > 1 ? 's' : ''})` : `exit ${last.code}`;
      expect(last.code, (last.stderr + last.stdout).slice(-2000)).toBe(0);
      redirectedThenServed(n);
      readsAtPar(m);
    });
  }

  it('the media3 emulator (same socket: served by fra under the Location URL)', async () => {
    const n = h.routed.length;
    const r = await playMedia3({ url: h.url('fra'), userAgent: 'AndroidXMedia3/1.5.1' });
    results.media3 = r.played ? `played, ${r.packets} RTP packets` : `failed: ${r.error}`;
    expect(r.error).toBeUndefined();
    expect(r.played).toBe(true);
    expect(r.hops.map((x) => x.port)).toEqual([h.ports.fra]);
    expect(h.routed.slice(n).map((e) => [e.entry, e.mode, e.reason])).toEqual([
      ['fra', 'redirect', expect.any(String)],
      ['fra', 'splice', 'same-connection'],
    ]);
  });

  it('the MS-RTSP emulator (Media Foundation: new connection to the Location)', async () => {
    const n = h.routed.length;
    const m = h.reads.length;
    const r = await playMsRtsp({ url: h.url('fra'), userAgent: 'MSRTSP-Emulator/1.0 (Windows Media Foundation)' });
    results['ms-rtsp'] = r.played ? `played, ${r.packets} RTP packets` : `failed: ${r.error}`;
    expect(r.error).toBeUndefined();
    expect(r.played).toBe(true);
    expect(r.playedFrom?.port).toBe(h.ports.par);
    expect(r.challenges).toBe(1); // at fra only: par takes the token
    redirectedThenServed(n);
    readsAtPar(m);
  });
});
