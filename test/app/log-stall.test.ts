// A stalled log reader never hangs the Haven: `haven start` (an origin from `haven init`, unedited)
// with stdout into a pipe nobody reads, a megabyte of log lines, the control API answering
// throughout, and a SIGTERM that ends the process and its children within 10 s.
import { closeSync, constants, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, NetnsHarness } from '../helpers/netns.js';
import { run, waitFor, type Spawned } from '../helpers/process.js';
import { mediamtxBin, repoRoot } from '../helpers/tools.js';

const PREFIX = 'hlog';
const CLI = path.join(repoRoot, 'examples/docker-app/dist/cli.js');
const MEGABYTE = 1024 * 1024;

let h: NetnsHarness;
let ns: string;
let dir: string;
const fds: number[] = [];

/** A named pipe: its read end opened (so writers do not get EPIPE) and never read; returns the write end. */
async function stalledPipe(): Promise<number> {
  const fifo = path.join(dir, 'stdout.fifo');
  const mk = await run('mkfifo', [fifo]);
  expect(mk.code, mk.stderr).toBe(0);
  fds.push(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
  const w = openSync(fifo, constants.O_WRONLY);
  fds.push(w);
  return w;
}

/** Direct children of a process (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

/** Whether a process exists and is not a zombie. */
function running(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

// Runs inside the namespace: short RTSP connections straight to MediaMTX (each one a few log lines
// of its output, which `--log-level debug` passes into the Haven's log), and between batches a
// timed GET /api/status. Prints one JSON line with what it saw. Bounded in count and time.
const LOAD = `
const net = require('node:net');
const [rtspPort, apiPort, maxConn, maxMs, targetBytes] = process.argv.slice(1).map(Number);
const t0 = Date.now();
const polls = [];
let conns = 0, stats;
const once = () => new Promise((resolve) => {
  const s = net.connect(rtspPort, '127.0.0.1');
  s.setTimeout(5000, () => s.destroy());
  s.on('connect', () => s.write('OPTIONS rtsp://127.0.0.1/live RTSP/1.0\\r\\nCSeq: 1\\r\\n\\r\\n'));
  s.on('data', () => s.end());
  s.on('error', () => {});
  s.on('close', resolve);
});
const poll = async () => {
  const p0 = Date.now();
  try {
    const r = await fetch('http://127.0.0.1:' + apiPort + '/api/status', { signal: AbortSignal.timeout(5000) });
    const body = await r.json();
    stats = body.log;
    polls.push({ ok: r.ok, ms: Date.now() - p0 });
  } catch (e) {
    polls.push({ ok: false, ms: Date.now() - p0, err: String(e) });
  }
};
(async () => {
  while (conns < maxConn && Date.now() - t0 < maxMs) {
    await Promise.all(Array.from({ length: 20 }, once));
    conns += 20;
    if (conns % 200 === 0) {
      await poll();
      if (stats && stats.writtenBytes + stats.droppedBytes >= targetBytes && stats.dropped > 0) break;
    }
  }
  await poll();
  process.stdout.write(JSON.stringify({ conns, polls, stats, ms: Date.now() - t0 }) + '\\n');
})();
`;

beforeAll(async () => {
  h = await NetnsHarness.create(PREFIX);
  ns = await h.namespace('origin');
  dir = await mkdtemp(path.join(tmpdir(), 'haven-logstall-'));
});

afterAll(async () => {
  for (const fd of fds) closeSync(fd);
  await h?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a stalled log reader', () => {
  it('drops and counts log lines, keeps the control API answering, and a SIGTERM ends everything within 10 s', async () => {
    const env = { ...process.env, MEDIAMTX_BIN: mediamtxBin(), HAVEN_DIR: '' };
    const init = await run(process.execPath, [CLI, '--dir', dir, 'init'], { env });
    expect(init.code, init.stderr).toBe(0);

    const stdout = await stalledPipe();
    const haven: Spawned = h.spawn(ns, process.execPath, [CLI, '--dir', dir, '--log-level', 'debug', 'start'], { env, stdio: ['ignore', stdout, 'pipe'] });
    await waitFor('the origin to be ready', () => haven.output().includes('› ready.') || haven.child.exitCode !== null, 90_000);
    expect(haven.output()).toContain('› ready.');

    const mtxConfig = await readFile(path.join(dir, 'state', 'mediamtx', 'mediamtx.yml'), 'utf8').catch(async () => {
      const found = await run('find', [dir, '-name', 'mediamtx.yml']);
      return readFile(found.stdout.trim().split('\n')[0]!, 'utf8');
    });
    const rtspPort = Number(/^rtspAddress:\s*['"]?[^:\s]*:(\d+)/m.exec(mtxConfig)?.[1]);
    expect(rtspPort).toBeGreaterThan(0);

    const load = await h.exec(ns, process.execPath, ['-e', LOAD, String(rtspPort), '8880', '20000', '150000', String(MEGABYTE)], { timeoutMs: 180_000 });
    expect(load.code, load.stderr).toBe(0);
    const seen = JSON.parse(load.stdout) as { conns: number; polls: Array<{ ok: boolean; ms: number; err?: string }>; stats: { written: number; dropped: number; writtenBytes: number; droppedBytes: number }; ms: number };
    const slowest = Math.max(...seen.polls.map((p) => p.ms));
    console.log(
      `log stall: ${seen.conns} connections in ${seen.ms} ms; log ${seen.stats.written} lines written (${seen.stats.writtenBytes} B), ${seen.stats.dropped} dropped (${seen.stats.droppedBytes} B); ${seen.polls.length} status polls, slowest ${slowest} ms`,
    );
    // A megabyte of log lines went through the sink, the pipe held only a part: the rest was dropped.
    expect(seen.stats.writtenBytes + seen.stats.droppedBytes).toBeGreaterThanOrEqual(MEGABYTE);
    expect(seen.stats.dropped).toBeGreaterThan(0);
    // The control API answered every poll throughout.
    expect(seen.polls.filter((p) => !p.ok)).toEqual([]);
    expect(seen.polls.length).toBeGreaterThan(1);

    // The count shows in `haven status` and in /metrics.
    const status = await h.exec(ns, process.execPath, [CLI, '--dir', dir, 'status'], { env, timeoutMs: 30_000 });
    expect(status.code, status.stderr).toBe(0);
    const dropped = Number(/^log: \d+ line\(s\) written, (\d+) dropped/m.exec(status.stdout)?.[1]);
    expect(dropped).toBeGreaterThanOrEqual(seen.stats.dropped);
    const metrics = await h.exec(ns, 'curl', ['-s', '--max-time', '5', 'http://127.0.0.1:8880/metrics'], { timeoutMs: 15_000 });
    const counted = Number(/^haven_log_lines_dropped_total (\d+)/m.exec(metrics.stdout)?.[1]);
    expect(counted).toBeGreaterThanOrEqual(seen.stats.dropped);

    // SIGTERM with the pipe still unread: the process and its children (MediaMTX) end within 10 s.
    const pid = haven.child.pid!;
    const children = childrenOf(pid);
    expect(children.length).toBeGreaterThan(0);
    const t0 = Date.now();
    haven.child.kill('SIGTERM');
    const code = await Promise.race([haven.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
    const tookMs = Date.now() - t0;
    console.log(`log stall: SIGTERM → exit ${String(code)} in ${tookMs} ms; children ${children.join(', ')}`);
    expect(code, haven.output().slice(-2000)).toBe(0);
    expect(tookMs).toBeLessThan(10_000);
    expect(haven.output()).toContain('SIGTERM: stopping');
    await waitFor('the children to be gone', () => children.every((c) => !running(c)), 2000);
  }, 400_000);
});
