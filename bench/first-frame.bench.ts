// Time to first media packet for a viewer, four ways, in the same run against the same Haven (real
// MediaMTX origin and two relay nodes on loopback, the gateway in this process, see
// test/gateway-e2e/setup.ts), with the player emulators of test/helpers/rtsp-players.ts:
//   straight     the MS-RTSP emulator opens the nearest node itself (a valid token, no challenge)
//   redirect     the MS-RTSP emulator opens the gateway: OPTIONS, 401 Digest, DESCRIBE -> 302,
//                close, new connection to the node, SETUP, PLAY
//   same-conn    the media3 emulator opens the gateway: 302, DESCRIBE again on the same socket,
//                served from the gateway's host (splice to the local MediaMTX)
//   mtx-redirect the MS-RTSP emulator opens a MediaMTX whose path is `source: redirect` to the
//                same node (MediaMTX's own answer: 401 Basic, 302), the peer of `redirect`
// Each sample is a new player from connect to its first RTP packet, and to the answer to its PLAY
// (the handshake alone: the first packet also waits for the stream's next frame, up to 1/15 s here);
// rounds interleave the four.
//   node bench/run.mjs first-frame            full run (~1 min)
//   node bench/run.mjs --smoke first-frame    a few seconds
import { signViewerToken } from '@haven/gateway';
import { GATEWAY_KEY } from '../test/helpers/token-key.js';
import { playMedia3, playMsRtsp, type PlayResult } from '../test/helpers/rtsp-players.js';
import { RELAY, startMediamtx, VIEWER } from '../test/gateway/helpers.js';
import { startHaven } from '../test/gateway-e2e/setup.js';
import { median, smoke } from './lib.js';

const ROUNDS = smoke ? 3 : 25;

async function main(): Promise<void> {
  const h = await startHaven({ stickySec: 0 });
  const key = GATEWAY_KEY;
  const par = h.nodes.par.rtspPort;
  // Long-lived token for the peer's static redirect target (a MediaMTX path cannot sign per viewer).
  const staticToken = signViewerToken(key, { ip: '127.0.0.1', stream: 'live', node: 'par' }, 600);
  const peer = await startMediamtx({ redirectTo: `rtsp://127.0.0.1:${par}/live?token=${staticToken}` });
  const gw = `rtsp://${VIEWER.user}:${VIEWER.password}@127.0.0.1:${h.rtspPort}/live`;
  const ways: Record<string, () => Promise<PlayResult>> = {
    straight: () => playMsRtsp({ url: `rtsp://127.0.0.1:${par}/live?token=${signViewerToken(key, { ip: '127.0.0.1', stream: 'live', node: 'par' }, 60)}`, userAgent: 'Bench/straight', packets: 1 }),
    redirect: () => playMsRtsp({ url: gw, userAgent: 'Bench/redirect', packets: 1 }),
    'same-conn': () => playMedia3({ url: gw, userAgent: 'AndroidXMedia3/1.5.1', packets: 1 }),
    'mtx-redirect': () => playMsRtsp({ url: `rtsp://${VIEWER.user}:${VIEWER.password}@127.0.0.1:${peer.rtspPort}/live`, userAgent: 'Bench/mtx', packets: 1 }),
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  const handshake: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  try {
    for (const [k, f] of Object.entries(ways)) {
      const r = await f(); // warm-up, and a check that each way plays
      if (!r.played || r.firstPacketMs === undefined) throw new Error(`${k}: did not play (${r.error ?? 'no packet'})`);
    }
    for (let i = 0; i < ROUNDS; i++) {
      for (const [k, f] of Object.entries(ways)) {
        const r = await f();
        if (!r.played || r.firstPacketMs === undefined) throw new Error(`${k}: did not play (${r.error ?? 'no packet'})`);
        samples[k]?.push(r.firstPacketMs);
        if (r.playAnsweredMs !== undefined) handshake[k]?.push(r.playAnsweredMs);
      }
    }
    const straight = median(samples.straight as number[]);
    console.log(`${ROUNDS} samples per way, new player each time, connect -> first RTP packet (median, p90)`);
    for (const [k, xs] of Object.entries(samples)) {
      const sorted = [...xs].sort((a, b) => a - b);
      const p90 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))] as number;
      console.log(`${k.padEnd(13)} ${median(xs).toFixed(1).padStart(8)} ms  p90 ${p90.toFixed(1).padStart(8)} ms   ratio vs straight ${(median(xs) / straight).toFixed(2)}x`);
    }
    const hs = median(handshake.straight as number[]);
    console.log('connect -> PLAY answered (the handshake alone, median)');
    for (const [k, xs] of Object.entries(handshake)) console.log(`${k.padEnd(13)} ${median(xs).toFixed(2).padStart(8)} ms   ratio vs straight ${(median(xs) / hs).toFixed(2)}x`);
    const red = median(samples.redirect as number[]);
    const mtx = median(samples['mtx-redirect'] as number[]);
    const hred = median(handshake.redirect as number[]);
    const hmtx = median(handshake['mtx-redirect'] as number[]);
    console.log(`ratio (Haven redirect / MediaMTX source:redirect): first packet ${(red / mtx).toFixed(2)}x, handshake ${(hred / hmtx).toFixed(2)}x`);
  } finally {
    await peer.stop();
    await h.stop();
  }
}

await main();
