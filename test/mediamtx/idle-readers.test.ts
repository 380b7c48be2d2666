/**
 * A playing RTSP reader over TCP that sends nothing is closed by MediaMTX (gortsplib's 60 s
 * IdleTimeout, in v1.21.0), however much it receives; one that sends its player's keep-alive stays.
 * The crowd benchmark's readers once sent none, and lost their connection about every minute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, waitFor, type Spawned } from '../helpers/process.js';
import { playMedia3, playMsRtsp, type PlayOptions } from '../helpers/rtsp-players.js';
import type { RtspWire } from '../helpers/rtsp-wire.js';
import { publishRtmp, rtspUrl, startMediamtx, testSecrets, type Started } from './harness.js';

const S = testSecrets();

describe('MediaMTX and idle readers', () => {
  let o: Started;
  let pub: Spawned;

  beforeAll(async () => {
    o = await startMediamtx({ role: 'origin', streams: ['live'] });
    pub = publishRtmp(o.ports.rtmp, 'live', `user=publisher&pass=${S.streamKey}`, 150);
    await waitFor('live ready', async () => (await o.server.stats('live')).ready || undefined, 30_000, 200);
  }, 60_000);
  afterAll(async () => {
    await pub?.stop();
    await o?.stop();
    await stopAll();
  });

  /** A reader held after PLAY until closed or `ms`; resolves with how long it stayed, ms. */
  const hold = (keepAlive: PlayOptions['keepAlive'], ms: number, play = playMedia3) =>
    new Promise<{ stayedMs: number; closed: boolean; packets: number }>((resolve, reject) => {
      let wire: RtspWire | undefined;
      const t0 = Date.now();
      play({
        url: rtspUrl(o.ports.rtsp, 'live', 'viewer', S.viewerPassword),
        userAgent: play === playMedia3 ? 'AndroidXMedia3/1.5.1' : 'Microsoft-Windows/10.0 UPnP/1.0',
        ...(keepAlive ? { keepAlive } : {}),
        hold: async (w) => {
          wire = w;
          const timer = setTimeout(() => w.close(), ms);
          await w.whenClosed();
          clearTimeout(timer);
          resolve({ stayedMs: Date.now() - t0, closed: w.closeCause !== 'local', packets: w.rtp });
        },
      })
        .then((r) => (wire ? undefined : reject(new Error(`never played: ${r.error ?? r.statuses.join(',')}`))))
        .catch(reject);
    });

  it('closes a reader that sends nothing after about a minute; keeps the ones sending OPTIONS (media3) or GET_PARAMETER (FFmpeg) at half the session timeout, or GET_PARAMETER at the timeout MediaMTX announces (Media Foundation)', async () => {
    const [silent, options, getParameter, mf] = await Promise.all([
      hold(undefined, 80_000),
      hold({ method: 'OPTIONS', every: 1 / 2 }, 80_000),
      hold({ method: 'GET_PARAMETER', every: 1 / 2 }, 80_000),
      hold({ method: 'GET_PARAMETER', every: 1 }, 80_000, playMsRtsp),
    ]);
    expect(silent.closed).toBe(true);
    expect(silent.stayedMs).toBeGreaterThan(55_000);
    expect(silent.stayedMs).toBeLessThan(75_000);
    expect(silent.packets).toBeGreaterThan(100);
    for (const r of [options, getParameter, mf]) {
      expect(r.closed).toBe(false);
      expect(r.stayedMs).toBeGreaterThanOrEqual(80_000);
    }
  }, 120_000);
});
