import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { type HavenNode } from '@haven/core';
import { digestResponse, parseAuthParams, rtspProbe } from '@haven/gateway';
import { probeContract } from '@haven/core/testing';
import { freePort } from '../helpers/process.js';
import { fakeRtspNode, SDP } from './fakes.js';
import { VIEWER } from './helpers.js';

const nodeAt = (port: number): HavenNode => ({ name: `n${port}`, location: { lat: 0, lon: 0 }, rtspUrl: `rtsp://127.0.0.1:${port}`, capacity: 0 });
const probe = rtspProbe({ credentials: () => VIEWER });

probeContract('rtspProbe', async () => {
  const live = await fakeRtspNode();
  return { probe, live: nodeAt(live.port), dead: nodeAt(await freePort()), stream: 'live', close: live.close };
});

/** A node that answers DESCRIBE with a scripted status (and asks for Digest when told to). */
async function scripted(answer: (req: string) => string) {
  const srv = createServer((s) => {
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      const req = buf.slice(0, i);
      buf = buf.slice(i + 4);
      s.write(answer(req).replace('CSEQ', /CSeq: (\d+)/.exec(req)?.[1] ?? '0'));
    });
  }).listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { port: (srv.address() as { port: number }).port, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

describe('rtspProbe', () => {
  it('answers a Digest challenge once with the viewer credentials', async () => {
    const nonce = 'abc123';
    const srv = await scripted((req) => {
      const auth = /Authorization: Digest (.*)/.exec(req)?.[1];
      if (!auth) return `RTSP/1.0 401 Unauthorized\r\nCSeq: CSEQ\r\nWWW-Authenticate: Digest realm="IPCAM", nonce="${nonce}"\r\n\r\n`;
      const p = parseAuthParams(auth);
      const ok = p.get('response') === digestResponse({ user: VIEWER.user, password: VIEWER.password, realm: 'IPCAM', nonce, method: 'DESCRIBE', uri: p.get('uri') ?? '' });
      return ok ? `RTSP/1.0 200 OK\r\nCSeq: CSEQ\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}` : 'RTSP/1.0 401 Unauthorized\r\nCSeq: CSEQ\r\n\r\n';
    });
    expect(await probe.probe({ node: nodeAt(srv.port), stream: 'live' }, AbortSignal.timeout(3000))).toMatchObject({ up: true, ready: true });
    await srv.close();
  });

  it('is up but not ready on 404 or an SDP without media', async () => {
    const notFound = await scripted(() => 'RTSP/1.0 404 Not Found\r\nCSeq: CSEQ\r\n\r\n');
    expect(await probe.probe({ node: nodeAt(notFound.port), stream: 'live' }, AbortSignal.timeout(3000))).toMatchObject({ up: true, ready: false, reason: '404 Not Found' });
    await notFound.close();
    const empty = await scripted(() => 'RTSP/1.0 200 OK\r\nCSeq: CSEQ\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n');
    expect(await probe.probe({ node: nodeAt(empty.port), stream: 'live' }, AbortSignal.timeout(3000))).toMatchObject({ up: true, ready: false, reason: 'no media in SDP' });
    await empty.close();
  });

  it('gives up at its deadline on a node that never answers', async () => {
    const mute = await scripted(() => '');
    const r = await probe.probe({ node: nodeAt(mute.port), stream: 'live' }, AbortSignal.timeout(200));
    expect(r).toMatchObject({ up: false, ready: false, reason: 'timeout' });
    await mute.close();
  });
});
