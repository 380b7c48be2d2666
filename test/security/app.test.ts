/**
 * Closing every door, checked on the real app: the `haven` CLI from examples/docker-app/dist, its
 * config from `haven init` unedited (default ports), real MediaMTX, ffmpeg and ffprobe. The origin
 * runs in its own network namespace, so its default ports are its own; every client runs in that
 * namespace too (test/security/fixtures/client.mjs), from chosen 127.x.y.z addresses.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument, isMap, isSeq } from 'yaml';
import { NetnsHarness } from '../helpers/netns.js';
import { run, stopAll, waitFor, type Spawned } from '../helpers/process.js';
import { mediamtxBin, repoRoot, requireTool } from '../helpers/tools.js';
import { publicMediaListeners } from './listeners.js';

const CLI = path.join(repoRoot, 'examples/docker-app/dist/cli.js');
const CLIENT = path.join(repoRoot, 'test/security/fixtures/client.mjs');
/** A higher file limit for the Haven and the load clients (root may raise it). */
const RAISE = 'ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); exec "$@"';

let h: NetnsHarness;
let ns: string;
let dir: string;
let env: NodeJS.ProcessEnv;
let origin: Spawned | undefined;
let publisher: Spawned | undefined;
let viewerPassword = '';
let token = '';

const node = process.execPath;

async function client<T = Record<string, any>>(cmd: string, arg: Record<string, unknown>, timeoutMs = 120_000): Promise<T> {
  const out = await h.execOk(ns, 'sh', ['-c', RAISE, 'sh', node, CLIENT, cmd, JSON.stringify(arg)], { timeoutMs });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}') as T;
}

function haven(args: string[], timeoutMs = 60_000) {
  return h.exec(ns, node, [CLI, '--dir', dir, ...args], { env, timeoutMs });
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** The pid of the Haven's node process: `ip netns exec` and `sh -c exec` keep the spawned pid. */
const havenPid = () => origin!.child.pid!;

async function startOrigin(): Promise<void> {
  origin = h.spawn(ns, 'sh', ['-c', RAISE, 'sh', node, CLI, '--dir', dir, 'start'], { env });
  await waitFor('the origin to be ready', () => origin!.output().includes('› ready.') || (origin!.child.exitCode !== null ? Promise.reject(new Error(origin!.output())) : false), 90_000, 200);
}

async function stopOrigin(): Promise<void> {
  await origin?.stop('SIGTERM', 10_000);
  origin = undefined;
}

async function play(from: string): Promise<string> {
  const url = `rtsp://viewer:${viewerPassword}@${from}:8554/live`;
  const r = await h.exec(ns, 'ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_type,codec_name', '-of', 'csv=p=0', url], { timeoutMs: 45_000 });
  return r.stdout.trim();
}

const httpRaw = (port: number, lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

beforeAll(async () => {
  requireTool('ffmpeg', 'apt-get install ffmpeg');
  requireTool('ffprobe', 'apt-get install ffmpeg');
  requireTool('wg', 'apt-get install wireguard-tools');
  h = await NetnsHarness.create('hsec');
  ns = await h.namespace('o');
  dir = await mkdtemp(path.join(tmpdir(), 'haven-sec-'));
  env = { ...process.env, MEDIAMTX_BIN: mediamtxBin(), HAVEN_DIR: '', NO_COLOR: '1' };
  const init = await run(node, [CLI, '--dir', dir, 'init', '--region', 'us-east', '--exposure', 'public'], { env, timeoutMs: 30_000 });
  expect(init.code, init.stderr).toBe(0);
  token = (await readFile(path.join(dir, 'state', 'api-token'), 'utf8')).trim();
  await startOrigin();
  const urls = JSON.parse((await haven(['urls', '--json'])).stdout) as { publish: Array<{ rtmp: string }>; viewer: Array<{ rtsp: string }> };
  viewerPassword = decodeURIComponent(new URL(urls.viewer[0]!.rtsp).password);
  publisher = h.spawn(ns, 'ffmpeg', ['-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15', '-t', '600', '-f', 'flv', urls.publish[0]!.rtmp]);
  await waitFor('the stream to be live', async () => {
    const r = await haven(['status', '--json']);
    return r.code === 0 && (JSON.parse(r.stdout) as { streams: Array<{ ready: boolean }> }).streams[0]?.ready;
  }, 60_000, 500);
}, 240_000);

afterAll(async () => {
  await publisher?.stop();
  await stopOrigin();
  await h?.cleanup();
  await stopAll();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('security of the running app (haven init, haven start)', () => {
  it("MediaMTX's Control API refuses a foreign-Origin preflight and unauthenticated calls; metrics are not open either", async () => {
    const pre = await client('request', { port: 9997, raw: httpRaw(9997, ['OPTIONS /v3/config/global/patch HTTP/1.1', 'Host: 127.0.0.1:9997', 'Origin: http://evil.example', 'Access-Control-Request-Method: PATCH', 'Connection: close']) });
    console.log(`MediaMTX API preflight from http://evil.example: ${pre.status}, Access-Control-Allow-Origin: ${pre.headers?.['access-control-allow-origin'] ?? '(none)'}`);
    expect(pre.headers?.['access-control-allow-origin']).toBeUndefined();
    for (const [method, p] of [['GET', '/v3/config/global/get'], ['PATCH', '/v3/config/global/patch'], ['GET', '/v3/paths/list']]) {
      const r = await client('request', { port: 9997, raw: httpRaw(9997, [`${method} ${p} HTTP/1.1`, 'Host: 127.0.0.1:9997', 'Origin: http://evil.example', 'Content-Length: 0', 'Connection: close']) });
      expect(r.status, `${method} ${p}`).toBe(401);
      expect(r.headers?.['access-control-allow-origin']).toBeUndefined();
    }
    // The viewer's credential is no key to the API either.
    const basic = Buffer.from(`viewer:${viewerPassword}`).toString('base64');
    const v = await client('request', { port: 9997, raw: httpRaw(9997, ['GET /v3/config/global/get HTTP/1.1', 'Host: 127.0.0.1:9997', `Authorization: Basic ${basic}`, 'Connection: close']) });
    expect(v.status).toBe(401);
    const metrics = await client('request', { port: 9998, raw: httpRaw(9998, ['GET /metrics HTTP/1.1', 'Host: 127.0.0.1:9998', 'Connection: close']) });
    expect(metrics.status === 401 || metrics.error === 'ECONNREFUSED', JSON.stringify(metrics)).toBe(true);
  });

  it('MediaMTX listens on no public address: RTSP, HLS and ingest are on loopback (ss -ltnp)', async () => {
    const pub = await publicMediaListeners({ ns });
    expect(pub).toEqual([]);
    // The same from the config the app rendered for MediaMTX (no namespace or ss needed to read it).
    const rendered = parseDocument(await readFile(path.join(dir, 'state', 'mediamtx', 'mediamtx.yml'), 'utf8')).toJS() as Record<string, unknown>;
    for (const key of ['rtspAddress', 'hlsAddress', 'rtmpAddress', 'srtAddress', 'apiAddress']) expect(String(rendered[key]), key).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(rendered).toMatchObject({ authHTTPExclude: [], apiAllowOrigins: [], metricsAllowOrigins: [] });
  });

  it('the HLS gateway never fetches from another host: absolute-form and //host targets get 400, the other listener counts zero hits', async () => {
    const r = await client<{ results: Array<{ target: string; status: number }>; hits: number }>('proxyProbe', {
      gatewayPort: 8888,
      listenHost: '127.0.0.2',
      listenPort: 9555,
      targets: ['http://127.0.0.2:9555/live/x.ts', 'http://127.0.0.2:9555/live/index.m3u8', '//127.0.0.2:9555/live/x.ts', 'http://evil.example/live/x.ts'],
    });
    console.log(`HLS gateway targets: ${r.results.map((x) => `${x.target} -> ${x.status}`).join(', ')}; hits on 127.0.0.2:9555: ${r.hits}`);
    expect(r.hits).toBe(0);
    for (const x of r.results) expect(x.status, x.target).toBe(400);
  });

  it('the control API refuses Host: evil.example and a foreign Origin', async () => {
    const evil = await client('request', { port: 8880, raw: httpRaw(8880, ['GET /api/status HTTP/1.1', 'Host: evil.example', 'Connection: close']) });
    expect(evil.status).toBe(421);
    const rebound = await client('request', { port: 8880, raw: httpRaw(8880, ['GET /metrics HTTP/1.1', 'Host: evil.example:8880', 'Connection: close']) });
    expect(rebound.status).toBe(421);
    const origin_ = await client('request', { port: 8880, raw: httpRaw(8880, ['GET /api/viewers HTTP/1.1', 'Host: 127.0.0.1:8880', 'Origin: http://evil.example', 'Connection: close']) });
    expect(origin_.status).toBe(403);
    const own = await client('request', { port: 8880, raw: httpRaw(8880, ['GET /api/status HTTP/1.1', 'Host: 127.0.0.1:8880', 'Connection: close']) });
    expect(own.status).toBe(200);
    const route = await client('request', { port: 8880, raw: httpRaw(8880, ['POST /api/route HTTP/1.1', 'Host: 127.0.0.1:8880', 'Content-Type: application/json', 'Content-Length: 20', 'Connection: close']) + '{"ip":"203.0.113.9"}' });
    expect(route.status).toBe(401);
  });

  it('one address opening 5,000 connections holds at most its budget while a second address still plays', async () => {
    const before = await rssMb(havenPid());
    const flood = client<{ attempted: number; open: number; closedByServer: number; errors: number }>('flood', { port: 8554, localAddress: '127.0.0.10', count: 5000, holdMs: 2500 });
    await new Promise((r) => setTimeout(r, 1500));
    const played = await play('127.0.0.20');
    const r = await flood;
    const after = await rssMb(havenPid());
    console.log(`flood from 127.0.0.10: ${r.attempted} attempted, ${r.open} still open at the end (budget 64), ${r.closedByServer} closed by the gateway; 127.0.0.20 played: ${played.replace(/\n/g, ' ')}; gateway RSS ${before.toFixed(1)} MB before, ${after.toFixed(1)} MB after`);
    expect(r.attempted).toBe(5000);
    expect(r.open).toBeLessThanOrEqual(64);
    expect(played).toMatch(/h264,video/);
  }, 180_000);

  it('10,000 idle connections from many loopback addresses stay within a bounded memory figure', async () => {
    const before = await rssMb(havenPid());
    const proc = h.spawn(ns, 'sh', ['-c', RAISE, 'sh', node, CLIENT, 'idle', JSON.stringify({ port: 8554, count: 10_000, base: 100, holdMs: 3000 })]);
    const holding = await waitFor('the idle connections to be open', () => {
      const line = proc.output().split('\n').find((l) => l.includes('"holding"'));
      return line ? (JSON.parse(line) as { attempted: number; connected: number; open: number }) : undefined;
    }, 120_000, 100);
    const peak = await rssMb(havenPid());
    await proc.exited;
    const done = JSON.parse(proc.output().trim().split('\n').pop() ?? '{}') as { openAtEnd: number };
    await new Promise((r) => setTimeout(r, 2000));
    const after = await rssMb(havenPid());
    const LIMIT_MB = 200;
    console.log(`10,000 idle connections from 127.100.x.y: ${holding.connected} connected, ${holding.open} open while held (gateway maxConnections 2000), ${done.openAtEnd} at the end; gateway RSS ${before.toFixed(1)} MB before, ${peak.toFixed(1)} MB while held, ${after.toFixed(1)} MB after (bound: +${LIMIT_MB} MB)`);
    expect(holding.attempted).toBe(10_000);
    expect(holding.open).toBeLessThanOrEqual(2000);
    expect(peak - before).toBeLessThan(LIMIT_MB);
    expect(await play('127.0.0.21')).toMatch(/h264,video/);
  }, 240_000);

  it('wrong passwords in a loop after a splice are blocked, the right password too, for that address only', async () => {
    // A player that does not follow redirects (VRChat's) is spliced to MediaMTX at its first request:
    // from then on MediaMTX's auth hook decides, and it holds the failed-login limit too.
    const r = await client<{ statuses: number[]; right: number }>('rtspLoop', { port: 8554, localAddress: '127.0.0.30', userAgent: 'NSPlayer/12.00.19041 VRChat', stream: 'live', user: 'viewer', wrong: 11, rightPassword: viewerPassword }, 240_000);
    console.log(`after a splice, wrong passwords: ${r.statuses.join(' ')}; then the right one: ${r.right}`);
    expect(r.statuses.every((s) => s === 401 || s === 403)).toBe(true);
    expect([401, 403]).toContain(r.right);
    const other = await client<{ right: number }>('rtspLoop', { port: 8554, localAddress: '127.0.0.31', userAgent: 'NSPlayer/12.00.19041 VRChat', stream: 'live', user: 'viewer', wrong: 0, rightPassword: viewerPassword });
    expect(other.right).toBe(200);
  }, 300_000);

  async function shareCode(n: string, region: string, host: string): Promise<string> {
    const k = await run(node, [CLI, '--dir', path.join(dir, `node-${n}`), 'node', 'keygen', '--region', region, '--name', n, '--public-host', host], { env, timeoutMs: 30_000 });
    expect(k.code, k.stderr).toBe(0);
    return k.stdout.trim().split('\n').pop()!;
  }

  async function concurrentAdd(names: string[], codes: string[]): Promise<string[]> {
    const file = path.join(dir, 'haven.yaml');
    const before = await readFile(file, 'utf8');
    const results = await Promise.all(codes.map((c) => haven(['node', 'add', c, '--json'])));
    const after = await readFile(file, 'utf8');
    const landed = names.filter((n) => after.includes(`name: ${n}`));
    console.log(`concurrent node add (${names.join(', ')}): exit codes ${results.map((r) => r.code).join(', ')}; in haven.yaml: ${landed.join(', ')}${results.some((r) => r.code !== 0) ? `; error: ${results.find((r) => r.code !== 0)!.stderr.trim()}` : ''}`);
    // Each call either landed, or failed with a message saying what to do; nothing else was lost.
    results.forEach((r, i) => {
      if (r.code === 0) expect(landed).toContain(names[i]);
      else expect(r.stderr).toMatch(/try again|already|duplicate/i);
    });
    // Every line that was there is still there (layout aside: the YAML writer may re-space a comment).
    const squash = (l: string) => l.trim().replace(/\s+/g, ' ');
    const afterLines = new Set(after.split('\n').map(squash));
    const kept = before.split('\n').map(squash).filter((l) => l !== '' && l !== 'nodes: []');
    for (const line of kept) expect(afterLines.has(line), line).toBe(true);
    const addrs = [...after.matchAll(/vpnAddress: (\S+)/g)].map((m) => m[1]);
    expect(new Set(addrs).size).toBe(addrs.length);
    return landed;
  }

  it('two concurrent `node add` with the origin stopped both land (file lock), with distinct VPN addresses; nothing else is lost', async () => {
    await stopOrigin();
    const codes = [await shareCode('alice', 'eu-central', '198.51.100.21'), await shareCode('bob', 'ap-northeast', '198.51.100.22')];
    const landed = await concurrentAdd(['alice', 'bob'], codes);
    expect(landed).toEqual(['alice', 'bob']);
    // With nodes, the origin runs WireGuard from this start on (wireguard-go in the namespace).
    await startOrigin();
  }, 180_000);

  it('two concurrent `node add` against the running origin both land through its one config writer', async () => {
    const codes = [await shareCode('carol', 'us-west', '198.51.100.23'), await shareCode('dave', 'sa-east', '198.51.100.24')];
    const landed = await concurrentAdd(['carol', 'dave'], codes);
    expect(landed.length).toBeGreaterThanOrEqual(1);
    const status = JSON.parse((await haven(['status', '--json'])).stdout) as { nodes: Array<{ name: string }> };
    for (const n of ['alice', 'bob', ...landed]) expect(status.nodes.map((x) => x.name)).toContain(n);
    // A node never rotates a secret of its own: it would silently diverge from the origin's.
    const onNode = await run(node, [CLI, '--dir', path.join(dir, 'node-carol'), 'secrets', 'rotate', 'relay-password'], { env, timeoutMs: 30_000 });
    expect(onNode.code).not.toBe(0);
    expect(onNode.stderr).toMatch(/rotated on the origin, not on a node: run `haven secrets rotate relay-password` on the origin/);
  }, 180_000);

  it('an invalid edit leaves the running config and the VPN peers exactly as they were', async () => {
    const api = async () => (await client('request', { port: 8880, raw: httpRaw(8880, ['GET /api/nodes HTTP/1.1', 'Host: 127.0.0.1:8880', 'Connection: close']) })).status;
    const up = await api();
    if (up !== 200) console.log(`origin output:\n${origin?.output().slice(-4000)}`);
    expect(up).toBe(200);
    const nodesJson = async () => {
      const st = JSON.parse((await haven(['status', '--json'])).stdout) as { nodes: Array<Record<string, unknown>> };
      return JSON.stringify(st.nodes.map((n) => ({ name: n.name, vpnAddress: n.vpnAddress, rtspUrl: n.rtspUrl, hlsUrl: n.hlsUrl, capacity: n.capacity, region: n.region })));
    };
    // Our interface only: wireguard-go's control sockets are shared by every namespace on the machine.
    const iface = (await h.execOk(ns, 'ip', ['-o', 'link', 'show'])).split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).find((n) => n && n !== 'lo');
    if (!iface) throw new Error('the origin has no WireGuard interface');
    const peers = async () => (await h.execOk(ns, 'wg', ['show', iface, 'dump'])).split('\n').slice(1).filter((l) => l.split('\t').length > 5).map((l) => l.split('\t').slice(0, 4).join(' ')).sort().join('\n');
    const file = path.join(dir, 'haven.yaml');
    const text = await readFile(file, 'utf8');
    const peersBefore = await peers();
    expect(peersBefore.split('\n').filter(Boolean).length).toBe(4);
    const statusBefore = await nodesJson();

    // (1) Through the API: a node whose endpoint is not host:port.
    const body = JSON.stringify({ name: 'carol', region: 'us-west', rtsp: 'rtsp://198.51.100.23:8554', publicKey: 'aFq2VfT0bVjTFI1u1T2mTm9yL0n0eWBqcS1P8rQ3yUw=', endpoint: 'not-an-endpoint' });
    const bad = await client('request', { port: 8880, raw: httpRaw(8880, ['POST /api/nodes HTTP/1.1', 'Host: 127.0.0.1:8880', `Authorization: Bearer ${token}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close']) + body });
    expect(bad.status).toBe(400);
    // (2) By hand: remove alice, and give bob an endpoint that passes the schema but WireGuard cannot use.
    const doc = parseDocument(text);
    const seq = doc.get('nodes', true);
    if (!isSeq(seq)) throw new Error('nodes is not a list');
    seq.items = seq.items.filter((it) => !(isMap(it) && it.get('name') === 'alice'));
    const bob = seq.items.find((it) => isMap(it) && it.get('name') === 'bob');
    if (!isMap(bob)) throw new Error('bob is missing');
    bob.set('endpoint', 'unresolvable.invalid:51820');
    const edited = doc.toString();
    expect(edited).not.toBe(text);
    await writeFile(file, edited);
    const refusal = await waitFor('the edit to be refused', () => (origin!.output().split('› ready.').pop() ?? '').split('\n').find((l) => /could not be applied/.test(l)), 60_000, 200);
    // WireGuard refused bob's endpoint after alice's peer was already removed: that removal was undone.
    expect(refusal).toMatch(/VPN refused the change for node .*nothing was changed/);
    console.log(`the running origin said: ${refusal.slice(0, 400)}`);
    await writeFile(file, text);
    expect(await peers()).toBe(peersBefore);
    expect(await nodesJson()).toBe(statusBefore);
    expect(await readFile(file, 'utf8')).toBe(text);
    console.log(`invalid edits refused; VPN peers unchanged:\n${peersBefore}`);
  }, 240_000);
});
