/**
 * Every public listener against hostile input, property-based (fast-check): the real listeners on
 * loopback, built as the app builds them (the origin's routing stack for the RTSP and HLS gateways,
 * the HTTPS entry, the ACME responder, the control API with its node report listener, the MediaMTX
 * auth hook). Random and adversarial request lines, targets, headers, random bytes and slow writers;
 * the inputs that once ended the process are fixed cases. After every batch a good request is
 * answered. Nothing a client sends may reach a door's bug path: no 500, no fault in the log.
 *
 * Replay a failure with `HAVEN_FUZZ_SEED=<seed printed below>`; `HAVEN_FUZZ_RUNS` sets the runs per batch.
 * In-process, loopback only, no namespace; about 10-20 s.
 */
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, ViewerTokenKey } from '@haven/core';
import { createControlApi, type ControlApi } from '@haven/control';
import { createHttpsGateway, type HttpsGateway } from '@haven/gateway';
import { AuthHookServer, ChallengeResponder, placeholderCertificate, SubnetMatcher } from '@haven/plugin-mediamtx';
import { fakeHaven, REPORT_TOKEN, TOKEN } from '../api/fake-deps.js';
import { basic, harness, recorder, type Harness } from '../gateway/fakes.js';
import { VIEWER } from '../gateway/helpers.js';
import { deliver, FIXED_HOSTS, FIXED_TARGETS, FUZZ_RUNS, FUZZ_SEED, hostileRequest, statusCodes, type HostileRequest } from './doors-fuzz.js';

// eslint-disable-next-line no-console
console.log(`door fuzz: seed ${FUZZ_SEED}, ${FUZZ_RUNS} runs per batch (replay: HAVEN_FUZZ_SEED=${FUZZ_SEED})`);

/** Every line a door logs at error level: a fault inside a door is a bug the fuzz found. */
const faults: string[] = [];
const logger = createLogger({ level: 'error', destination: { write: (line: string) => void faults.push(line) } });

/** Fuzz traffic comes from its own address, so its failed logins never rate-limit the good requests. */
const FUZZER = '127.0.0.9';

interface Door {
  name: string;
  protocol: 'HTTP' | 'RTSP';
  tls?: boolean;
  port: () => number;
  /** A well-formed request and the status it must get. */
  good: () => { bytes: string; status: number };
}

let h: Harness;
let origin: Awaited<ReturnType<typeof recorder>>;
let localHls: Server;
let https: HttpsGateway;
let acme: ChallengeResponder;
let api: ControlApi;
let ports: { api: number; report: number };
let hook: AuthHookServer;
let hookPath = '';
let dir: string;

beforeAll(async () => {
  origin = await recorder();
  localHls = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end('#EXTM3U\n')).listen(0, '127.0.0.1');
  await once(localHls, 'listening');
  h = await harness({
    splicePort: origin.port,
    localHls: `http://127.0.0.1:${(localHls.address() as { port: number }).port}`,
    hls: true,
    // Budgets out of the way: the fuzz is about input, one address opening connections fast.
    gateway: { newConnectionsPerSecond: 10_000, newConnectionBurst: 10_000, maxConnectionsPerAddress: 1000, firstRequestTimeoutMs: 1000 },
    extra: { logger },
  });

  dir = await mkdtemp(path.join(tmpdir(), 'haven-fuzz-'));
  const pem = await placeholderCertificate('127.0.0.1');
  const certFile = path.join(dir, 'live.pem');
  await writeFile(certFile, `${pem.keyPem.trim()}\n${pem.certPem.trim()}\n`, { mode: 0o600 });
  https = createHttpsGateway({
    host: '127.0.0.1',
    port: 0,
    certFile,
    viewer: () => VIEWER,
    streams: () => ['live'],
    choose: () => ({ node: 'node-b', hlsBase: 'https://198.51.100.3:8888' }),
    tokenKey: () => new ViewerTokenKey(),
    logger,
  });
  await https.start();

  acme = new ChallengeResponder('127.0.0.1', { host: '127.0.0.1', port: 0 }, logger);
  await acme.start();
  acme.set('tok1', 'tok1.thumb');

  api = createControlApi(fakeHaven().deps, { listen: '127.0.0.1:0', reportListen: '127.0.0.1:0', token: TOKEN, nodeReportToken: REPORT_TOKEN, logger, processMetrics: false });
  const started = await api.start();
  ports = { api: started.port, report: started.reportPort ?? 0 };

  hook = new AuthHookServer({
    policy: () => ({
      role: 'origin',
      streams: new Set(['live']),
      viewerUser: VIEWER.user,
      publishAnyUser: false,
      publishProtocols: new Set(['rtsp']),
      readProtocols: new Set(['rtsp', 'hls']),
      relaySubnets: new SubnetMatcher(['10.77.0.0/24']),
      nodeName: 'origin',
    }),
    secrets: () => ({ streamKey: 'PublishKey123456', viewerPassword: VIEWER.password, relayPassword: 'RelayPass1234567' }),
    logger,
  });
  hookPath = new URL(await hook.listen()).pathname;
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await origin?.close();
  localHls?.close();
  await https?.stop();
  await acme?.stop();
  await api?.stop();
  await hook?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const get = (target: string, headers: string[] = [], proto = 'HTTP/1.1') => [`GET ${target} ${proto}`, 'Host: 127.0.0.1', ...headers, 'Connection: close', '', ''].join('\r\n');
const hookBody = JSON.stringify({ ip: '127.0.0.1', user: VIEWER.user, password: VIEWER.password, action: 'read', protocol: 'rtsp', path: 'live', query: '', id: null });

const doors: Door[] = [
  {
    name: 'RTSP gateway',
    protocol: 'RTSP',
    port: () => h.port,
    good: () => ({ bytes: 'OPTIONS rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\n\r\n', status: 200 }),
  },
  { name: 'HLS gateway', protocol: 'HTTP', port: () => h.hlsPort ?? 0, good: () => ({ bytes: get('/live/index.m3u8', [`Authorization: ${basic()}`]), status: 200 }) },
  { name: 'HTTPS entry', protocol: 'HTTP', tls: true, port: () => https.address()?.port ?? 0, good: () => ({ bytes: get('/live/index.m3u8', [`Authorization: ${basic()}`]), status: 302 }) },
  { name: 'ACME responder', protocol: 'HTTP', port: () => acme.port() ?? 0, good: () => ({ bytes: get('/.well-known/acme-challenge/tok1'), status: 200 }) },
  { name: 'control API', protocol: 'HTTP', port: () => ports.api, good: () => ({ bytes: get('/api/status'), status: 200 }) },
  {
    name: 'node report listener',
    protocol: 'HTTP',
    port: () => ports.report,
    good: () => ({ bytes: get(`/api/locate?ip=198.51.100.1`, [`Authorization: Bearer ${REPORT_TOKEN}`]), status: 403 }),
  },
  {
    name: 'MediaMTX auth hook',
    protocol: 'HTTP',
    port: () => Number(new URL(hook.url).port),
    good: () => ({
      bytes: [`POST ${hookPath} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', `Content-Length: ${hookBody.length}`, 'Connection: close', '', hookBody].join('\r\n'),
      status: 200,
    }),
  },
];

/** Deliver one hostile request; the door must not answer with its bug status or log a fault. */
async function attack(door: Door, req: HostileRequest): Promise<void> {
  const before = faults.length;
  const text = await deliver(door.port(), req, { ...(door.tls ? { tls: true } : {}), localAddress: FUZZER });
  expect(statusCodes(text), `${door.name}: ${JSON.stringify(req.bytes.toString('latin1').slice(0, 200))}`).not.toContain(500);
  expect(faults.slice(before), `${door.name}: a fault inside the door`).toEqual([]);
}

async function stillServes(door: Door): Promise<void> {
  const { bytes, status } = door.good();
  const text = await deliver(door.port(), { bytes: Buffer.from(bytes, 'latin1'), slow: false }, { ...(door.tls ? { tls: true } : {}), waitMs: 3000 });
  expect(statusCodes(text)[0], `${door.name}: the good request after a batch`).toBe(status);
}

describe.each(doors)('$name under hostile input', (door) => {
  it('answers a good request before any fuzz', async () => {
    await stillServes(door);
  });

  it('the fixed cases (targets and Host headers that once threw) are answered without a fault', async () => {
    for (const t of FIXED_TARGETS) {
      const line = door.protocol === 'RTSP' ? `DESCRIBE ${t} RTSP/1.0\r\nCSeq: 1\r\n\r\n` : get(t);
      await attack(door, { bytes: Buffer.from(line, 'latin1'), slow: false });
    }
    for (const host of FIXED_HOSTS) {
      const target = door.name === 'ACME responder' ? '/.well-known/acme-challenge/x' : '/live/index.m3u8';
      await attack(door, { bytes: Buffer.from(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 'latin1'), slow: false });
    }
    await stillServes(door);
  }, 30_000);

  for (const batch of [1, 2]) {
    it(`random batch ${batch}: every request survives, then a good request is answered`, async () => {
      await fc.assert(
        fc.asyncProperty(hostileRequest(door.protocol), (req) => attack(door, req)),
        { seed: FUZZ_SEED + batch, numRuns: FUZZ_RUNS, interruptAfterTimeLimit: 8000 },
      );
      await stillServes(door);
    }, 30_000);
  }
});
