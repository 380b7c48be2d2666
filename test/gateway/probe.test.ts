import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { type HavenNode } from '@haven/core';
import { digestResponse, parseAuthParams, rtspAliveProbe, rtspProbe } from '@haven/gateway';
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
  // Probes keep their connection: closing the node ends them too.
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
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
  return {
    port: (srv.address() as { port: number }).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
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

describe('kept probe connections', () => {
  it('asks every probe of a node over one connection, each answer matched to its request', async () => {
    const node = await fakeRtspNode();
    const p = rtspProbe({ credentials: () => VIEWER });
    for (let i = 0; i < 5; i++) expect(await p.probe({ node: nodeAt(node.port), stream: 'live' }, AbortSignal.timeout(3000))).toMatchObject({ up: true, ready: true });
    expect(p.stats()).toMatchObject({ connects: 1, reused: 4, retried: 0, open: 1 });
    // One request per probe, each written after the one before was answered (CSeq 1..5 on one socket).
    expect(node.requests.map((r) => /CSeq: (\d+)/.exec(r)?.[1])).toEqual(['1', '2', '3', '4', '5']);
    p.close();
    expect(p.stats().open).toBe(0);
    await node.close();
  });

  it('drops an answer to an earlier request (another CSeq) and reads its own', async () => {
    let n = 0;
    const srv = await scripted(() => {
      n++;
      const stale = 'RTSP/1.0 404 Not Found\r\nCSeq: 999\r\n\r\n';
      return `${n === 1 ? stale : ''}RTSP/1.0 200 OK\r\nCSeq: CSEQ\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`;
    });
    const p = rtspProbe({ credentials: () => VIEWER });
    expect(await p.probe({ node: nodeAt(srv.port), stream: 'live' }, AbortSignal.timeout(3000))).toMatchObject({ up: true, ready: true });
    p.close();
    await srv.close();
  });

  it('asks again on a new connection when the node ends the kept one under the request', async () => {
    // The node's idle timeout races the next probe: the request reaches a connection being closed.
    let first = true;
    const srv = createServer((s) => {
      s.on('error', () => {});
      let seen = 0;
      s.on('data', (d: Buffer) => {
        const cseq = /CSeq: (\d+)/.exec(d.toString('latin1'))?.[1];
        if (++seen === 2 && first) {
          first = false;
          return s.destroy();
        }
        s.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n\r\n`);
      });
    }).listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const p = rtspAliveProbe();
    const target = { node: nodeAt((srv.address() as { port: number }).port), stream: 'live' };
    expect(await p.probe(target, AbortSignal.timeout(3000))).toMatchObject({ up: true });
    expect(await p.probe(target, AbortSignal.timeout(3000))).toMatchObject({ up: true, ready: true });
    expect(p.stats()).toMatchObject({ connects: 2, reused: 1, retried: 1, open: 1 });
    p.close();
    await new Promise<void>((r) => srv.close(() => r()));
  });

  it('opens a new connection after the node closed the idle one; a node gone is refused', async () => {
    const node = await fakeRtspNode();
    const p = rtspAliveProbe();
    const target = { node: nodeAt(node.port), stream: 'live' };
    expect(await p.probe(target, AbortSignal.timeout(3000))).toMatchObject({ up: true });
    // The node ends every connection but comes back on its port: not a failure.
    const port = node.port;
    await node.close();
    const again = await fakeRtspNodeAt(port);
    expect(await p.probe(target, AbortSignal.timeout(3000))).toMatchObject({ up: true, ready: true });
    expect(p.stats()).toMatchObject({ connects: 2 });
    // The node is gone: its kept connection closes and the new connect is refused (down at once upstream).
    await again.close();
    expect(await p.probe(target, AbortSignal.timeout(3000))).toMatchObject({ up: false, reason: 'ECONNREFUSED' });
    p.close();
  });

  it('ends the connection at the probe deadline, so a late answer is never read as the next one', async () => {
    let slow = true;
    const srv = await scripted(() => (slow ? '' : 'RTSP/1.0 200 OK\r\nCSeq: CSEQ\r\n\r\n'));
    const p = rtspAliveProbe();
    const target = { node: nodeAt(srv.port), stream: 'live' };
    expect(await p.probe(target, AbortSignal.timeout(200))).toMatchObject({ up: false, reason: 'timeout' });
    expect(p.stats().open).toBe(0);
    slow = false;
    expect(await p.probe(target, AbortSignal.timeout(3000))).toMatchObject({ up: true });
    expect(p.stats()).toMatchObject({ connects: 2, reused: 0 });
    p.close();
    await srv.close();
  });
});

/** `fakeRtspNode` again on a port it used before (the node came back). */
async function fakeRtspNodeAt(port: number) {
  for (let i = 0; ; i++) {
    const n = await fakeRtspNode(port).catch((e: unknown) => {
      if (i > 20) throw e;
      return undefined;
    });
    if (n) return n;
    await new Promise((r) => setTimeout(r, 50));
  }
}
