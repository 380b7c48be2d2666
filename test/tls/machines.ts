/** Start the TLS test fixture (fixtures/tls-node.ts) in a namespace and talk to it over stdin/stdout. */
import path from 'node:path';
import type { NetnsHarness } from '../helpers/netns.js';
import { waitFor, type Spawned } from '../helpers/process.js';
import { repoRoot } from '../helpers/tools.js';

export interface Machine {
  proc: Spawned;
  /** JSON lines printed so far. */
  lines(): Array<Record<string, unknown>>;
  /** Send a command and wait for the next line carrying `key`. */
  ask(cmd: string, key: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export function startMachine(h: NetnsHarness, ns: string, args: object, fixture = 'tls-node.ts'): Machine {
  const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
  const proc = h.spawn(ns, tsx, [path.join(repoRoot, 'test/tls/fixtures', fixture), JSON.stringify(args)], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines = (): Array<Record<string, unknown>> =>
    proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  return {
    proc,
    lines,
    async ask(cmd, key, timeoutMs = 60_000) {
      const before = lines().length;
      proc.child.stdin?.write(`${cmd}\n`);
      return waitFor(`${cmd} → ${key}`, () => lines().slice(before).find((l) => key in l), timeoutMs, 100);
    },
    async stop() {
      proc.child.stdin?.write('stop\n');
      const t = setTimeout(() => void proc.stop('SIGTERM', 8_000), 15_000);
      await proc.exited;
      clearTimeout(t);
    },
  };
}

export async function ready(m: Machine, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    'machine ready',
    () => {
      const l = m.lines();
      const fatal = l.find((x) => 'fatal' in x);
      if (fatal) throw new Error(`fixture failed: ${String(fatal.fatal)}\n${m.proc.output().slice(-3000)}`);
      return l.some((x) => x.ready === true) || undefined;
    },
    timeoutMs,
    100,
  );
}

/** Wait until the machine's TLS status is `valid` (a CA certificate installed); returns the status. */
export async function certified(m: Machine, timeoutMs = 90_000): Promise<{ state: string; renewAt?: string; challengesServed?: number; certificate: { serial: string; notAfter: string; notBefore: string; selfSigned: boolean; issuer: string }; error?: string }> {
  let last: unknown;
  return waitFor(
    'certificate issued',
    async () => {
      const r = await m.ask('status', 'status', 20_000);
      const st = r.status as { state: string; challengesServed?: number; certificate: { serial: string; notAfter: string; notBefore: string; selfSigned: boolean; issuer: string } };
      last = st;
      return st?.state === 'valid' ? st : undefined;
    },
    timeoutMs,
    500,
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; last status ${JSON.stringify(last)}\n${m.proc.output().slice(-3000)}`);
  });
}
