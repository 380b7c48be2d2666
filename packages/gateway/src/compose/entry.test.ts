import { describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { entryOnClock, HAVEN, VIEWER } from './entry.fixture.js';
import type { RoutingState } from '@haven/core';

function state(version: number, parHealthy: boolean): RoutingState {
  return {
    haven: HAVEN,
    version,
    issuedAt: version,
    nodes: [
      { name: 'par', location: { lat: 48.86, lon: 2.35 }, rtspUrl: 'rtsp://192.0.2.1:8554', healthy: parHealthy, capacity: 10, load: 0, entry: true },
      { name: 'fra', location: { lat: 50.11, lon: 8.68 }, rtspUrl: 'rtsp://192.0.2.2:8554', healthy: true, capacity: 10, load: 3, entry: true },
    ],
    viewer: VIEWER,
    players: [],
  };
}

describe('createEntryRouting: the registry from the routing state', () => {
  it('holds the healthy nodes with itself as the local one; leaves itself out when the state is not current; a ready node counts itself before the origin saw it up', () => {
    let ready = false;
    const { e, follower, advance } = entryOnClock({ selfReady: () => ready });
    e.sync();
    expect(e.registry.list()).toEqual([]);
    expect(follower.accept(state(1, true))).toMatchObject({ ok: true });
    e.sync();
    expect(e.registry.origin()?.name).toBe('par');
    expect(e.registry.list().map((n) => n.name).sort()).toEqual(['fra', 'par']);
    // The origin lost: par sends no viewer to itself, fra stays.
    advance(7000);
    e.sync();
    expect(e.registry.list().map((n) => n.name)).toEqual(['fra']);
    expect(e.registry.origin()).toBeUndefined();
    // A ready node leaves itself out too while the origin is lost.
    ready = true;
    e.sync();
    expect(e.registry.origin()).toBeUndefined();
    // Current again, the origin not yet seeing par up: ready counts it; not ready leaves it out.
    expect(follower.accept(state(2, false))).toMatchObject({ ok: true });
    e.sync();
    expect(e.registry.origin()?.name).toBe('par');
    ready = false;
    e.sync();
    expect(e.registry.origin()).toBeUndefined();
    expect(e.health.load(e.registry.get('fra')!)).toBe(3);
  });
});

describe('createEntryRouting: no placeholder verifier', () => {
  /** One RTSP request to the entry's gateway; the status code of its answer. */
  const describeStatus = (port: number, auth?: string) =>
    new Promise<number>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () =>
        s.write(`DESCRIBE rtsp://127.0.0.1:${port}/live RTSP/1.0\r\nCSeq: 1\r\n${auth ? `Authorization: ${auth}\r\n` : ''}\r\n`),
      );
      let text = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        text += d;
        const m = /^RTSP\/1\.0 (\d{3})/.exec(text);
        if (m && text.includes('\r\n\r\n')) {
          s.destroy();
          resolve(Number(m[1]));
        }
      });
      s.on('error', reject);
    });
  const basicAuth = (pass: string) => `Basic ${Buffer.from(`viewer:${pass}`).toString('base64')}`;

  it('before its first routing state the gateway answers every DESCRIBE 503, before any credential check; after it, credentials are checked', async () => {
    const { e, follower } = entryOnClock();
    await e.rtspGateway.start();
    try {
      const port = e.rtspGateway.address()!.port;
      expect(e.viewer()).toBeUndefined();
      // No challenge offered, no password compared: the right one, a wrong one and none all get 503.
      expect(await describeStatus(port)).toBe(503);
      expect(await describeStatus(port, basicAuth('pw'))).toBe(503);
      expect(await describeStatus(port, basicAuth('wrong'))).toBe(503);
      expect(await describeStatus(port, 'Digest username="viewer", realm="Stream Haven", nonce="0", uri="rtsp://x/live", response="00000000000000000000000000000000"')).toBe(503);
      follower.accept(state(1, true));
      expect(await describeStatus(port)).toBe(401);
      expect(await describeStatus(port, basicAuth('wrong'))).toBe(401);
    } finally {
      await e.rtspGateway.stop();
    }
  });
});

describe('createEntryRouting: players', () => {
  it("serves locally the players the origin learned to serve locally (the routing state), and drops them with the state", () => {
    const { e, follower } = entryOnClock();
    expect(follower.accept({ ...state(1, true), players: [{ userAgent: 'GiveUp/1', served: 'local' }, { userAgent: 'Lavf/61', served: 'redirect' }] })).toMatchObject({ ok: true });
    const learner = e.rtspGateway.learner;
    expect(learner.verdict('GiveUp/1')).toEqual({ served: 'local', why: 'learned-local' });
    expect(learner.verdict('Lavf/61')).toEqual({ served: 'redirect', why: 'default' });
    expect(follower.accept({ ...state(2, true), players: [] })).toMatchObject({ ok: true });
    expect(learner.verdict('GiveUp/1').served).toBe('redirect');
  });
});
