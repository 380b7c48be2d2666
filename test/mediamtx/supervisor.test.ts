/**
 * The process supervisor against a small stand-in process (node): readiness, restart with backoff,
 * SIGKILL after the grace period, start failures with sanitized output, a missing binary.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sanitize, Supervisor, type SupervisorOptions } from '@haven/plugin-mediamtx';
import { alive, freePort, stopAll, waitFor } from '../helpers/process.js';

/** A process that listens on PORT after DELAY ms and can ignore SIGTERM or die at once. */
const FAKE = `
const http = require('node:http');
const mode = process.env.MODE || 'serve';
console.log('fake starting with rtsp://relay:TopSecretPass1@10.77.0.1:8654/live');
if (mode === 'crash-after-first') {
  const fs = require('node:fs');
  const n = Number(fs.existsSync(process.env.COUNTER) ? fs.readFileSync(process.env.COUNTER, 'utf8') : '0') + 1;
  fs.writeFileSync(process.env.COUNTER, String(n));
  if (n > 1) { console.error('crash #' + n); process.exit(4); }
}
if (mode === 'crash') { console.error('fatal: listen tcp :8554: bind: address already in use'); process.exit(3); }
if (mode === 'crash-then-shutdown') {
  // As MediaMTX does: the ERR line, then several lines of closing paths before it exits.
  console.error('2026/01/01 00:00:00 ERR listen tcp 127.0.0.1:8554: bind: address already in use');
  for (let i = 0; i < 7; i++) console.error('2026/01/01 00:00:00 INF [path live] [RTSP source] stopped: path is closing');
  process.exit(1);
}
if (mode === 'stubborn') process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
setTimeout(() => {
  http.createServer((q, r) => r.end('{"version":"fake"}')).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
}, Number(process.env.DELAY || 0));
`;

const supervisors: Supervisor[] = [];
afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
  await stopAll();
});

async function make(mode: string, extra: Partial<SupervisorOptions> = {}, env: Record<string, string> = {}) {
  const port = await freePort();
  const lines: string[] = [];
  const s = new Supervisor({
    label: 'Fake',
    command: process.execPath,
    args: ['-e', FAKE],
    env: { ...process.env, MODE: mode, PORT: String(port), DELAY: '300', ...env },
    probe: async (signal) => (await fetch(`http://127.0.0.1:${port}/`, { signal })).ok,
    startTimeoutMs: 10_000,
    stopGraceMs: 500,
    restartDelayMs: 50,
    restartMaxDelayMs: 400,
    sanitize: (l) => sanitize(l),
    onLine: (l) => lines.push(l),
    ...extra,
  });
  supervisors.push(s);
  return { s, port, lines };
}


describe('Supervisor', () => {
  it('start() resolves once the probe answers, and output lines are sanitized', async () => {
    const { s, lines } = await make('serve');
    await s.start();
    expect(s.state).toBe('running');
    expect(s.pid).toBeGreaterThan(0);
    await waitFor('ready line', () => lines.includes('ready') || undefined, 5_000);
    expect(lines.join('\n')).not.toContain('TopSecretPass1');
    expect(lines.join('\n')).toContain('rtsp://[redacted]@10.77.0.1:8654/live');
  });

  it('restarts after an unexpected exit with an event carrying the attempt and the new pid', async () => {
    const restarts: Array<{ attempt: number; pid: number | undefined }> = [];
    const { s } = await make('serve', { onRestart: (r) => restarts.push(r) });
    await s.start();
    const pid = s.pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor('restart', () => restarts[0], 10_000);
    expect(restarts[0]?.attempt).toBe(1);
    expect(restarts[0]?.pid).toBe(s.pid);
    expect(s.pid).not.toBe(pid);
    expect(s.restarts).toBe(1);
  });

  it('keeps retrying a crash-looping process, reporting each failure, until stop() (nothing left running)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'haven-sup-'));
    const errors: string[] = [];
    const restarts: number[] = [];
    try {
      const { s } = await make(
        'crash-after-first',
        { onError: (e) => errors.push(e.code), onRestart: (r) => restarts.push(r.attempt) },
        { COUNTER: path.join(dir, 'n'), DELAY: '0' },
      );
      await s.start();
      expect(s.state).toBe('running');
      process.kill(s.pid!, 'SIGKILL');
      await waitFor('three failed restarts', () => (errors.length >= 3 ? true : undefined), 15_000);
      expect(errors.every((c) => c === 'START_FAILED')).toBe(true);
      expect(restarts).toEqual([]);
      await s.stop();
      expect(s.state).toBe('stopped');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('start() fails with the last output lines when the process exits while starting', async () => {
    const { s } = await make('crash');
    const err = await s.start().catch((e: unknown) => e as Error & { code?: string });
    expect(err).toMatchObject({ code: 'START_FAILED' });
    expect(String(err)).toMatch(/exited with code 3 while starting/);
    expect(String(err)).toMatch(/address already in use/);
    expect(String(err)).not.toContain('TopSecretPass1');
    expect(s.state).toBe('stopped');
  });

  it('the reason of a failed start (its ERR line) is in the message even when shutdown lines follow it', async () => {
    const { s } = await make('crash-then-shutdown');
    const err = await s.start().catch((e: unknown) => e as Error & { code?: string });
    expect(err).toMatchObject({ code: 'START_FAILED' });
    expect(String(err)).toMatch(/exited with code 1 while starting: [^|]*ERR listen tcp 127\.0\.0\.1:8554: bind: address already in use/);
  });

  it('start() fails with START_TIMEOUT when the probe never answers, and kills the process', async () => {
    const { s } = await make('serve', { startTimeoutMs: 200, probe: async () => false });
    await expect(s.start()).rejects.toMatchObject({ code: 'START_TIMEOUT' });
    expect(s.pid).toBeUndefined();
  });

  it('SIGKILL after the grace period when SIGTERM is ignored; stop() twice is one stop', async () => {
    const { s, lines } = await make('stubborn', { stopGraceMs: 300 });
    await s.start();
    const pid = s.pid!;
    const [a, b] = [s.stop(), s.stop()];
    expect(a).toBe(b);
    await a;
    expect(alive(pid)).toBe(false);
    expect(lines).toContain('ignoring SIGTERM');
    await s.stop();
  });

  it('a missing binary fails with BINARY_MISSING and what to do', async () => {
    const s = new Supervisor({
      label: 'MediaMTX',
      command: '/nonexistent/mediamtx',
      args: [],
      probe: async () => false,
      startTimeoutMs: 1_000,
      stopGraceMs: 100,
      restartDelayMs: 10,
      restartMaxDelayMs: 10,
    });
    supervisors.push(s);
    const err = await s.start().catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ code: 'BINARY_MISSING' });
    expect(String(err)).toMatch(/MEDIAMTX_BIN/);
  });
});
