import { describe, expect, it } from 'vitest';
import { connect, createServer, type AddressInfo } from 'node:net';
import { HavenEmitter, type Locator, type RoutingState, ViewerTokenKey } from '@haven/core';
import { PROBE_HEADER, signProbeToken } from '../auth/probe-token.js';
import { signViewerToken } from '../auth/token.js';
import { LOCAL_HOLD_MS } from '../rtsp/local-hold.js';
import { PROBE_USER_AGENT } from '../rtsp/probe.js';
import { tokenLocation } from '../rtsp/target.js';
import { entryOnClock, HAVEN, KEY, VIEWER } from './entry.fixture.js';

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

/** Nothing reaches the media server while the stream is not back; once `makeReady` runs, the held read does. */
async function heldUntilReady(got: readonly string[], makeReady: () => void): Promise<void> {
  await new Promise((r) => setTimeout(r, 400));
  expect(got).toEqual([]);
  makeReady();
  await new Promise((r) => setTimeout(r, 500));
  expect(got).toHaveLength(1);
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

describe('createEntryRouting: load of other nodes', () => {
  it("keeps counting its own redirects to a node across state versions until the node's reported load changes", async () => {
    const { e, follower } = entryOnClock();
    follower.accept(state(1, true));
    e.sync();
    const fra = e.registry.get('fra')!;
    expect(e.health.load(fra)).toBe(3);
    // Redirects after the report (the monitor counts those made after the report's millisecond).
    await new Promise((r) => setTimeout(r, 5));
    e.health.noteRouted(fra);
    e.health.noteRouted(fra);
    expect(e.health.load(fra)).toBe(5);
    // A new version for other news (par's health), fra's load unchanged: the two redirects still count.
    await new Promise((r) => setTimeout(r, 5));
    follower.accept(state(2, false));
    e.sync();
    expect(e.health.load(e.registry.get('fra')!)).toBe(5);
    // fra's own report changed its load: that is the count from now on.
    follower.accept({ ...state(3, false), nodes: state(3, false).nodes.map((n) => (n.name === 'fra' ? { ...n, load: 6 } : n)) });
    e.sync();
    expect(e.health.load(e.registry.get('fra')!)).toBe(6);
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

  it("does not serve a player here for its User-Agent alone: the probe's name is no credential", () => {
    const { e } = entryOnClock({ gateway: { pinLocal: ['Other/2'] } });
    expect(e.rtspGateway.learner.verdict(PROBE_USER_AGENT).served).toBe('redirect');
    expect(e.rtspGateway.learner.verdict('Other/2')).toEqual({ served: 'local', why: 'pinned-local' });
    expect(e.rtspGateway.learner.verdict('Lavf/61').served).toBe('redirect');
  });
});

describe("createEntryRouting: the origin's probe, known by its credential", () => {
  /** A stand-in RTSP server: answers every request 200 (fra's gateway; par's local MediaMTX), counts them. */
  async function answering() {
    const got: string[] = [];
    const sockets = new Set<import('node:net').Socket>();
    const srv = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
      s.on('data', (d: Buffer) => {
        const text = d.toString('latin1');
        got.push(text);
        const cseq = /CSeq: (\d+)/i.exec(text)?.[1] ?? '0';
        s.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n\r\n`);
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const close = () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => srv.close(() => r()));
    };
    return { got, port: (srv.address() as AddressInfo).port, close };
  }
  /** A client connection that sends requests one by one and reads each status (or 0 once closed). */
  function client(port: number) {
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    let text = '';
    let closed = false;
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('close', () => (closed = true));
    let cseq = 0;
    const ask = async (method: string, headers: string[]): Promise<{ status: number; location?: string }> => {
      text = '';
      if (closed) return { status: 0 };
      s.write(`${method} rtsp://127.0.0.1:${port}/live RTSP/1.0\r\nCSeq: ${++cseq}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`);
      for (let i = 0; i < 200 && !closed && !text.includes('\r\n\r\n'); i++) await new Promise((r) => setTimeout(r, 10));
      const m = /^RTSP\/1\.0 (\d{3})/.exec(text);
      const location = /Location: (\S+)/.exec(text)?.[1];
      return { status: m ? Number(m[1]) : 0, ...(location ? { location } : {}) };
    };
    return { ask, close: () => s.destroy(), closed: () => closed };
  }
  const basic = `Authorization: Basic ${Buffer.from('viewer:pw').toString('base64')}`;
  const ua = `User-Agent: ${PROBE_USER_AGENT}`;

  async function setUp() {
    const fra = await answering();
    const media = await answering();
    const origin = new ViewerTokenKey();
    KEY.acceptFrom(() => [origin.publicKey]);
    // The viewer's address is placed in Frankfurt: the nearest node is fra, so a viewer is sent there.
    const locator: Locator = { name: 'table', capabilities: { ipv6: false, updates: false }, locate: () => ({ lat: 50.11, lon: 8.68, country: 'DE' }) };
    const events = new HavenEmitter();
    const routed: string[] = [];
    events.on('viewer:routed', (ev) => routed.push(`${ev.mode}:${ev.node}`));
    const { e, follower } = entryOnClock({ mediaRtsp: () => `127.0.0.1:${media.port}`, locator: () => locator, gateway: { undecidedDeadlineMs: 1000 }, events });
    const st = state(1, true);
    follower.accept({ ...st, nodes: st.nodes.map((n) => (n.name === 'fra' ? { ...n, rtspUrl: `rtsp://127.0.0.1:${fra.port}` } : n)) });
    e.sync();
    await e.health.start();
    await e.rtspGateway.start();
    const done = async () => {
      KEY.acceptFrom(() => []);
      await e.rtspGateway.stop();
      await e.health.stop();
      await fra.close();
      await media.close();
    };
    return { e, port: e.rtspGateway.address()!.port, media, origin, routed, done };
  }

  it("a request with the probe's User-Agent alone is redirected like any viewer; the origin's signed probe is served here", async () => {
    const { port, media, origin, routed, done } = await setUp();
    try {
      const viewer = client(port);
      const asViewer = await viewer.ask('DESCRIBE', [basic, ua]);
      viewer.close();
      expect(asViewer.status).toBe(302);
      expect(asViewer.location).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/live\/token=/);
      expect(media.got).toEqual([]);
      // A credential signed by a key par does not accept (or for another node) is no probe either.
      for (const forged of [signProbeToken(new ViewerTokenKey(), 'par'), signProbeToken(origin, 'fra')]) {
        const c = client(port);
        expect((await c.ask('DESCRIBE', [basic, ua, `${PROBE_HEADER}: ${forged}`])).status).toBe(302);
        c.close();
      }
      expect(media.got).toEqual([]);
      const probe = client(port);
      expect((await probe.ask('DESCRIBE', [basic, ua, `${PROBE_HEADER}: ${signProbeToken(origin, 'par')}`])).status).toBe(200);
      expect(media.got.join('')).toMatch(/^PROXY TCP4 127\.0\.0\.1 .*\r\nDESCRIBE rtsp:\/\/127\.0\.0\.1:\d+\/live RTSP\/1\.0\r\n/);
      // The viewers were routed (302 to fra); the probe is no viewer: no route, no load here.
      expect(routed).toEqual(['redirect:fra', 'redirect:fra', 'redirect:fra']);
      // The credential is no password: without the viewer's credentials the probe is challenged.
      const noPassword = client(port);
      expect((await noPassword.ask('DESCRIBE', [ua, `${PROBE_HEADER}: ${signProbeToken(origin, 'par')}`])).status).toBe(401);
      noPassword.close();
      probe.close();
    } finally {
      await done();
    }
  });

  it('keeps a probe connection open past the undecided deadline and the request count; an ordinary one is closed', async () => {
    const { e, port, origin, done } = await setUp();
    try {
      const probe = client(port);
      const plain = client(port);
      const header = `${PROBE_HEADER}: ${signProbeToken(origin, 'par')}`;
      for (let i = 0; i < 20; i++) {
        expect((await probe.ask('OPTIONS', [ua, header])).status).toBe(200);
        await plain.ask('OPTIONS', [ua]);
        await new Promise((r) => setTimeout(r, 75));
      }
      // 20 requests over ~1.5 s: past the 1 s undecided deadline and the 16 requests of an undecided connection.
      expect(probe.closed()).toBe(false);
      expect(e.rtspGateway.stats().undecided).toBe(0);
      expect(plain.closed()).toBe(true);
      probe.close();
    } finally {
      await done();
    }
  });
});

describe('createEntryRouting: reads served here wait while the local media server has no stream', () => {
  /** A stand-in for the local MediaMTX: what each connection sent in its first 200 ms. */
  async function fakeMedia() {
    const got: string[] = [];
    const srv = createServer((s) => {
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString('latin1')));
      setTimeout(() => {
        got.push(text);
        s.destroy();
      }, 200);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return { got, port: (srv.address() as AddressInfo).port, close: () => new Promise<void>((r) => srv.close(() => r())) };
  }
  const send = (port: number, text: string) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.write(text));
    s.on('error', () => {});
    return s;
  };

  it('a relay child (passthrough) is held, its bytes kept, until the stream is back; then spliced with them', async () => {
    const media = await fakeMedia();
    let ready = false;
    const { e } = entryOnClock({ mediaRtsp: () => `127.0.0.1:${media.port}`, passthrough: () => true, localReady: () => ready });
    await e.rtspGateway.start();
    const s = send(e.rtspGateway.address()!.port, 'OPTIONS rtsp://10.77.0.2:8554/live RTSP/1.0\r\nCSeq: 1\r\n\r\n');
    try {
      await heldUntilReady(media.got, () => (ready = true));
      expect(media.got[0]).toMatch(/^PROXY TCP4 127\.0\.0\.1 .*\r\nOPTIONS rtsp:\/\/10\.77\.0\.2:8554\/live RTSP\/1\.0\r\n/);
    } finally {
      s.destroy();
      await e.rtspGateway.stop();
      await media.close();
    }
  });

  it('a viewer with a token for this node is spliced only once the stream is back, and after LOCAL_HOLD_MS anyway', async () => {
    const media = await fakeMedia();
    let ready = false;
    const { e, follower } = entryOnClock({ mediaRtsp: () => `127.0.0.1:${media.port}`, localReady: () => ready });
    follower.accept(state(1, true));
    await e.rtspGateway.start();
    const port = e.rtspGateway.address()!.port;
    const uri = () => tokenLocation(`rtsp://127.0.0.1:${port}`, 'live', signViewerToken(KEY, { ip: '127.0.0.1', stream: 'live', node: 'par' }, 60));
    const a = send(port, `DESCRIBE ${uri()} RTSP/1.0\r\nCSeq: 2\r\n\r\n`);
    let b: ReturnType<typeof send> | undefined;
    try {
      await heldUntilReady(media.got, () => (ready = true));
      expect(media.got[0]).toContain('DESCRIBE rtsp://127.0.0.1:');
      // Never ready: spliced after the hold (MediaMTX then answers for itself).
      ready = false;
      const t0 = Date.now();
      b = send(port, `DESCRIBE ${uri()} RTSP/1.0\r\nCSeq: 2\r\n\r\n`);
      await waitUntil(() => media.got.length === 2, LOCAL_HOLD_MS + 2000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(LOCAL_HOLD_MS - 100);
    } finally {
      a.destroy();
      b?.destroy();
      await e.rtspGateway.stop();
      await media.close();
    }
  }, 15_000);
});

async function waitUntil(ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('createEntryRouting: viewers served here count from their decision', () => {
  it('a burst decided before any splice opened fills the entry only to its capacity; the rest go to the next node, and a viewer that leaves while held no longer counts', async () => {
    // The next node answers the entry's alive probe (any RTSP answer); the local media server never gets the stream.
    const next = createServer((s) => s.on('data', (d: Buffer) => s.write(`RTSP/1.0 200 OK\r\nCSeq: ${/CSeq:\s*(\d+)/i.exec(d.toString('latin1'))?.[1] ?? 0}\r\n\r\n`)));
    await new Promise<void>((r) => next.listen(0, '127.0.0.1', r));
    const nextPort = (next.address() as AddressInfo).port;
    const { e, follower } = entryOnClock({ localReady: () => false });
    follower.accept({
      haven: HAVEN,
      version: 1,
      issuedAt: 1,
      nodes: [
        { name: 'par', location: { lat: 48.86, lon: 2.35 }, rtspUrl: 'rtsp://127.0.0.1:1', healthy: true, capacity: 2, load: 0, entry: true },
        { name: 'fra', location: { lat: 50.11, lon: 8.68 }, rtspUrl: `rtsp://127.0.0.1:${nextPort}`, healthy: true, capacity: 10, load: 0, entry: true },
      ],
      viewer: VIEWER,
      players: [],
    });
    e.sync();
    await e.rtspGateway.start();
    const port = e.rtspGateway.address()!.port;
    const auth = `Basic ${Buffer.from('viewer:pw').toString('base64')}`;
    const viewers: Array<{ s: ReturnType<typeof connect>; got: () => string }> = [];
    const arrive = () => {
      let got = '';
      const s = connect({ host: '127.0.0.1', port }, () => s.write(`DESCRIBE rtsp://127.0.0.1:${port}/live RTSP/1.0\r\nCSeq: 2\r\nAuthorization: ${auth}\r\n\r\n`));
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      s.on('error', () => {});
      viewers.push({ s, got: () => got });
    };
    const parLoad = () => e.router.candidates('live').find((c) => c.node.name === 'par')?.load;
    try {
      // Three at once: none of them has a splice open (the stream is not back here).
      arrive();
      arrive();
      arrive();
      await waitUntil(() => viewers.some((v) => v.got().includes('302')), 2000);
      expect(parLoad()).toBe(2);
      const redirected = viewers.filter((v) => /^RTSP\/1\.0 302/.test(v.got()));
      expect(redirected).toHaveLength(1);
      expect(redirected[0]!.got()).toMatch(new RegExp(`Location: rtsp://127\\.0\\.0\\.1:${nextPort}/live/token=`));
      // The held ones leave before the stream is back: the entry has room again.
      for (const v of viewers) v.s.destroy();
      await waitUntil(() => parLoad() === 0, 2000);
    } finally {
      for (const v of viewers) v.s.destroy();
      await e.rtspGateway.stop();
      await e.health.stop(); // its kept probe connection to the next node
      await new Promise<void>((r) => next.close(() => r()));
    }
  }, 15_000);
});
