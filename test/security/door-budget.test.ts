import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViewerTokenKey, originConfigSchema } from '@haven/core';
import { createHttpsGateway, type HttpsGateway, type RoutingStack } from '@haven/gateway';
import { waitFor } from '../helpers/process.js';
import { playMedia3 } from '../helpers/rtsp-players.js';
import { VIEWER } from '../gateway/helpers.js';
import { startOriginDoor, type OriginDoor } from './origin-door.js';

// 60 networks (loopback /24s 127.10.0.0 .. 127.69.0.0; all of 127/8 is loopback on Linux), four
// addresses each, every address trying to hold 10 connections that trickle requests and never get
// anywhere: each network is held to its undecided budget (gateway.maxUndecidedPerPrefix, 32), each
// connection to its total deadline (gateway.undecidedDeadlineMs, 10 s, however often it asks), and a
// viewer from a 61st network still plays. The doors are built as the app builds them, with the
// config's defaults untouched: the origin's routing stack (RTSP gateway in front of a real MediaMTX
// fed by ffmpeg) and the HTTPS entry.

const NETS = 60;
const ADDRESSES = 4;
const PER_ADDRESS = 10;
const VIEWER_IP = '127.200.0.1';
const defaults = originConfigSchema.parse({ role: 'origin' }).gateway;

interface Crowd {
  /** Admitted connections (answered at least once, or handshaking) and how long each lived, ms. */
  lifetimes: number[];
  attempts: number;
  open: () => number;
  stop(): void;
}

/**
 * Every address of every network keeps `PER_ADDRESS` connections going: `onOpen` trickles on each
 * (an RTSP OPTIONS every 3 s, or nothing at all), and a closed one is opened again `againMs` later.
 * Bounded: at most `maxAttempts` connections in all, and nothing after `stop()`.
 */
function crowd(port: number, onOpen: (s: Socket, admitted: () => void) => NodeJS.Timeout | undefined, againMs = 3000, maxAttempts = 40_000): Crowd {
  const c: Crowd = { lifetimes: [], attempts: 0, open: () => live.size, stop: () => (running = false) };
  const live = new Set<Socket>();
  let running = true;
  const one = (ip: string) => {
    if (!running || c.attempts >= maxAttempts) return;
    c.attempts++;
    const s = connect({ host: '127.0.0.1', port, localAddress: ip });
    let since: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    s.on('error', () => {});
    s.on('connect', () => {
      live.add(s);
      timer = onOpen(s, () => (since ??= Date.now()));
    });
    s.on('close', () => {
      live.delete(s);
      if (timer) clearInterval(timer);
      if (since !== undefined) c.lifetimes.push(Date.now() - since);
      setTimeout(() => one(ip), againMs).unref();
    });
  };
  for (let n = 0; n < NETS; n++) for (let a = 1; a <= ADDRESSES; a++) for (let i = 0; i < PER_ADDRESS; i++) one(`127.${10 + n}.0.${a}`);
  const stop = c.stop;
  c.stop = () => {
    stop();
    for (const s of live) s.destroy();
  };
  return c;
}

describe('every door has a budget per address and per network', () => {
  let door: OriginDoor;
  let stack: RoutingStack;
  let rtspPort: number;
  let https: HttpsGateway | undefined;
  let dir: string;

  beforeAll(async () => {
    door = await startOriginDoor();
    ({ stack, rtspPort } = door);
    dir = mkdtempSync(path.join(tmpdir(), 'haven-door-budget-'));
  });

  afterAll(async () => {
    await https?.stop();
    await door?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('RTSP: 60 networks hold their budgets of trickling connections, none outlives its deadline, and a viewer from a new network plays', async () => {
    expect(defaults).toMatchObject({ maxUndecidedPerPrefix: 32, undecidedDeadlineMs: 10_000, maxConnections: 2000 });
    const options = (cseq: number) => `OPTIONS rtsp://127.0.0.1:${rtspPort}/live RTSP/1.0\r\nCSeq: ${cseq}\r\nUser-Agent: slow/1\r\n\r\n`;
    const attack = crowd(rtspPort, (s, admitted) => {
      let cseq = 1;
      s.on('data', (d: Buffer) => {
        if (d.toString('latin1').startsWith('RTSP/1.0 200')) admitted();
      });
      s.write(options(cseq++));
      return setInterval(() => s.write(options(cseq++)), 3000);
    });
    try {
      const gw = () => stack.rtspGateway.stats().budget;
      await waitFor('60 networks holding their budgets', () => gw().prefixes >= NETS && gw().open >= NETS * 32 * 0.95, 60_000, 250);
      const held = gw();
      expect(held.prefixes).toBeGreaterThanOrEqual(NETS);
      expect(held.open).toBeLessThanOrEqual(NETS * defaults.maxUndecidedPerPrefix);
      // The rest of each network's connections wait for a slot (at most 2 s) or were refused after it.
      expect(held.refused.undecided + held.waiting).toBeGreaterThan(0);

      const play = () => playMedia3({ url: `rtsp://${VIEWER.user}:${VIEWER.password}@127.0.0.1:${rtspPort}/live`, userAgent: 'AndroidXMedia3/1.5.0', localAddress: VIEWER_IP, packets: 20, waitMs: 15_000 });
      const first = await play();
      expect(first.error).toBeUndefined();
      expect(first.played).toBe(true);

      // Past the deadline: the trickling connections were closed at it (requests did not extend
      // it), the networks filled their budgets again, and a viewer still plays.
      await new Promise((r) => setTimeout(r, defaults.undecidedDeadlineMs + 3000));
      expect(gw().shed.deadline).toBeGreaterThanOrEqual(NETS * 30);
      // Slack for a loaded machine; without the deadline they would live 16 requests x 3 s = 48 s.
      expect(Math.max(...attack.lifetimes)).toBeLessThan(defaults.undecidedDeadlineMs + 5000);
      expect(gw().open).toBeLessThanOrEqual(NETS * defaults.maxUndecidedPerPrefix + 1);
      const again = await play();
      expect(again.played).toBe(true);
      console.log(
        `rtsp door: ${attack.attempts} attempts from ${NETS} networks; held ${held.open} (${(held.open / NETS).toFixed(1)} per network); ` +
          `shed at the deadline ${gw().shed.deadline}; longest trickling connection ${Math.max(...attack.lifetimes)} ms; ` +
          `viewer's first packet after ${Math.round(first.firstPacketMs ?? -1)} ms, then ${Math.round(again.firstPacketMs ?? -1)} ms`,
      );
    } finally {
      attack.stop();
    }
    await waitFor('the door to empty', () => stack.rtspGateway.stats().budget.open === 0, 20_000);
  });

  it('HTTPS entry: 60 networks holding stalled handshakes cannot keep a viewer from a new network from its redirect', async () => {
    const certFile = path.join(dir, 'live.pem');
    const key = path.join(dir, 'k.pem');
    const crt = path.join(dir, 'c.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    writeFileSync(certFile, `${readFileSync(key, 'utf8')}${readFileSync(crt, 'utf8')}`, { mode: 0o600 });
    const prepared = new Set<string>();
    https = createHttpsGateway({
      host: '127.0.0.1',
      port: 0,
      certFile,
      viewer: () => ({ user: VIEWER.user, password: VIEWER.password }),
      streams: () => ['live'],
      choose: () => ({ node: 'self', hlsBase: 'https://127.0.0.1:8888' }),
      prepare: (ip) => prepared.add(ip),
      tokenKey: () => new ViewerTokenKey(),
    });
    await https.start();
    const port = https.address()!.port;
    // Stalled handshakes: a TLS record header announcing a ClientHello, then not one byte more.
    // They come back at once: the handshake timeout (5 s) ends each of them long before the deadline.
    const attack = crowd(
      port,
      (s, admitted) => {
        admitted();
        s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
        return undefined;
      },
      200,
    );
    try {
      await waitFor('60 networks holding their budgets', () => https!.budget().prefixes >= NETS && https!.budget().open >= NETS * 32 * 0.8, 60_000, 100);
      const held = https.budget();
      expect(held.open).toBeLessThanOrEqual(NETS * defaults.maxUndecidedPerPrefix);
      // The HTTPS door has no wait for a slot (the RTSP door's): the rest were refused at once.
      expect(held.waiting).toBe(0);
      expect(held.refused.undecided).toBeGreaterThan(0);
      const get = () =>
        new Promise<{ status: number; location?: string }>((resolve, reject) => {
          const req = request(
            { host: '127.0.0.1', port, path: '/live/index.m3u8', localAddress: VIEWER_IP, rejectUnauthorized: false, agent: false, headers: { authorization: `Basic ${Buffer.from(`${VIEWER.user}:${VIEWER.password}`).toString('base64')}` } },
            (res) => {
              res.resume();
              resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}) });
            },
          );
          req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')));
          req.on('error', reject);
          req.end();
        });
      const r = await get();
      expect(r.status).toBe(302);
      expect(r.location).toMatch(/^https:\/\/127\.0\.0\.1:8888\/live\/index\.m3u8\?token=/);
      // Only admitted connections make the entry locate (ask the origin about) their sender.
      expect(prepared.has(VIEWER_IP)).toBe(true);
      expect(prepared.size).toBeLessThanOrEqual(NETS * ADDRESSES + 1);
      // Stalled handshakes die at the TLS handshake timeout (5 s, inside the deadline); the networks
      // take their budgets again, and the next viewer still gets its redirect.
      await new Promise((res) => setTimeout(res, 7000));
      expect(https.budget().open).toBeLessThanOrEqual(NETS * defaults.maxUndecidedPerPrefix + 1);
      expect((await get()).status).toBe(302);
      console.log(`https door: ${attack.attempts} attempts; held ${held.open} (${(held.open / NETS).toFixed(1)} per network); refused ${JSON.stringify(https.budget().refused)}`);
    } finally {
      attack.stop();
    }
  });
});
