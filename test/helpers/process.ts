import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Processes started by tests; `stopAll` ends every one still running (call it in afterEach/afterAll). */
const tracked = new Set<ChildProcess>();

export interface Spawned {
  child: ChildProcess;
  /** Everything the process wrote so far (stdout + stderr). */
  output(): string;
  /** Resolves with the exit code (or null on signal). */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export function spawnTracked(cmd: string, args: string[], options: SpawnOptions = {}): Spawned {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  tracked.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.length > 1_000_000) out = out.slice(-500_000);
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.length > 1_000_000) out = out.slice(-500_000);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      tracked.delete(child);
      void outputEnded(child).then(() => resolve(code));
    });
    child.once('error', () => {
      tracked.delete(child);
      resolve(-1);
    });
  });
  return {
    child,
    output: () => out,
    exited,
    stop: (signal = 'SIGTERM', graceMs = 3000) => stopChild(child, exited, signal, graceMs),
  };
}

/**
 * 'exit' can come before the last bytes of stdout/stderr were read: wait for 'close' (every pipe read
 * to its end), bounded, since a grandchild that inherited a pipe may hold it open for longer.
 */
async function outputEnded(child: ChildProcess, boundMs = 2000): Promise<void> {
  if (!child.stdout && !child.stderr) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([once(child, 'close').catch(() => {}), new Promise((r) => (timer = setTimeout(r, boundMs)))]);
  clearTimeout(timer);
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all(
    [...tracked].map((c) => {
      if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
      const done = once(c, 'exit').catch(() => {});
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 3000);
      return done.finally(() => clearTimeout(t));
    }),
  );
}

/** Run a command to completion; resolves with code and output (never rejects on non-zero exit). */
export async function run(
  cmd: string,
  args: string[],
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { timeoutMs = 30_000, ...rest } = options;
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...rest });
  tracked.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (c) => void outputEnded(child).then(() => resolve(c)));
    child.once('error', (err) => {
      stderr += String(err);
      resolve(-1);
    });
  });
  clearTimeout(timer);
  tracked.delete(child);
  return { code, stdout, stderr };
}

/**
 * Ports for tests come from below the kernel's ephemeral range: a port picked there is never taken as the local
 * port of some outgoing connection between the pick and the bind (which is how a MediaMTX once failed with
 * "address already in use" on a port the OS had just said was free). Picks are random, so two test processes
 * rarely meet, and each process never hands the same port out twice.
 */
const handedOut = new Set<number>();

function portRange(): [number, number] {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    /* not Linux: keep the IANA default */
  }
  const top = Math.min(low - 1, 32767);
  return [Math.max(10_000, top - 12_000), top];
}

async function bindable(port: number, host: string, udp: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    if (udp) {
      const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      sock.once('error', () => resolve(false));
      sock.bind(port, host, () => sock.close(() => resolve(true)));
      return;
    }
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

async function pickPort(host: string, udp: boolean): Promise<number> {
  const [lo, hi] = portRange();
  for (let i = 0; i < 500; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo + 1));
    if (handedOut.has(port)) continue;
    if (!(await bindable(port, host, udp))) continue;
    if (udp && !(await bindable(port, host, false))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port on ${host} in ${lo}-${hi} after 500 tries`);
}

/** A TCP port that was free a moment ago on the given host, outside the ephemeral range. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return pickPort(host, false);
}

/** A port free on both UDP and TCP a moment ago (SRT listens on UDP), outside the ephemeral range. */
export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return pickPort(host, true);
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Whether a process with this pid exists. */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
