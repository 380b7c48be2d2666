/**
 * A network-namespace harness for integration and end-to-end tests (needs root).
 *
 * Every namespace is named `<prefix>-<name>`, every veth `<prefix>v<n>a|b`, so a harness finds and
 * removes what an earlier crashed run with the same prefix left behind. Name WireGuard interfaces
 * `<prefix>...` too (wireguard-go's sockets live in one directory shared by all namespaces). `cleanup()` kills every
 * process inside the namespaces (tracked or not), removes the control sockets of any wireguard-go
 * it killed, deletes the namespaces and any prefixed link left in the root namespace. Traffic stays
 * inside these namespaces: use only the addresses given to `link()`.
 */
import type { SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, run, spawnTracked, type Spawned } from './process.js';
import { isRoot, requireTool } from './tools.js';

export interface NetnsLink {
  /** Interface name in namespace A / B. */
  a: string;
  b: string;
  /** Addresses (without prefix length) on each side. */
  addrA: string;
  addrB: string;
}

export interface Leftovers {
  namespaces: string[];
  links: string[];
  pids: number[];
  /** wireguard-go control sockets named with the prefix (interfaces named `<prefix>...`). */
  sockets: string[];
}

type RunResult = Awaited<ReturnType<typeof run>>;

const WG_SOCKET_DIR = '/var/run/wireguard';

async function ip(args: string[]): Promise<RunResult> {
  return run('ip', args, { timeoutMs: 15_000 });
}

async function ipOk(args: string[]): Promise<string> {
  const r = await ip(args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Named namespaces live as files in /run/netns (read directly: `ip netns list` can come back short under load). */
const NETNS_DIR = '/run/netns';

async function namespacesWith(prefix: string): Promise<string[]> {
  try {
    return (await readdir(NETNS_DIR)).filter((n) => n.startsWith(`${prefix}-`)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function pidsIn(ns: string): Promise<number[]> {
  const r = await ip(['netns', 'pids', ns]);
  return r.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

async function rootLinksWith(prefix: string): Promise<string[]> {
  const r = await ip(['-o', 'link', 'show']);
  return r.stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith(prefix));
}

export { alive };

/** The interface a wireguard-go process serves (its last argument), if `pid` is one. */
async function wireguardGoInterface(pid: number): Promise<string | undefined> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean);
  return argv[0] && path.basename(argv[0]) === 'wireguard-go' ? argv[argv.length - 1] : undefined;
}

/**
 * Kill every process in a namespace: SIGTERM, then SIGKILL after a grace period (`sigkill`: at once,
 * as when the machine dies). Removes the control sockets of the wireguard-go processes it killed
 * (a killed wireguard-go leaves its socket in the directory every namespace shares, whatever the
 * interface is named). Returns the pids it found.
 */
export async function killNamespace(ns: string, options: { sigkill?: boolean } = {}): Promise<number[]> {
  const pids = await pidsIn(ns);
  const sockets = (await Promise.all(pids.map(wireguardGoInterface))).filter((x): x is string => !!x);
  const signal = (sig: NodeJS.Signals, list: number[]) => {
    for (const pid of list) {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  if (!options.sigkill) {
    signal('SIGTERM', pids);
    for (let i = 0; i < 30 && pids.some(alive); i++) await sleep(100);
  }
  signal('SIGKILL', pids.filter(alive));
  for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(100);
  for (const ifname of sockets) await rm(path.join(WG_SOCKET_DIR, `${ifname}.sock`), { force: true });
  return pids;
}

async function socketsWith(prefix: string): Promise<string[]> {
  const names = await readdir(WG_SOCKET_DIR).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix) && n.endsWith('.sock'));
}

/** True when nobody listens on a unix socket any more (its wireguard-go was killed). */
function stale(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(file);
    sock.once('connect', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT'));
  });
}

/**
 * Remove everything carrying `prefix`: processes in its namespaces, the namespaces, root links,
 * and dead wireguard-go sockets of interfaces named `<prefix>...` (a SIGKILLed run leaves them).
 */
export async function cleanupPrefix(prefix: string): Promise<void> {
  for (const ns of await namespacesWith(prefix)) {
    await killNamespace(ns);
    // A namespace whose last process is still exiting can refuse deletion for a moment: retry.
    for (let attempt = 0; attempt < 20; attempt++) {
      const r = await ip(['netns', 'del', ns]);
      const still = existsSync(path.join(NETNS_DIR, ns));
      if (!still) break;
      if (r.code !== 0 || attempt > 0) process.stderr.write(`[netns] ${ns} still there after del (exit ${r.code}: ${r.stderr.trim()})\n`);
      if (attempt === 19) process.stderr.write(`[netns] cannot delete ${ns}: ${r.stderr.trim()}\n`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  for (const link of await rootLinksWith(prefix)) await ip(['link', 'del', 'dev', link]);
  for (const name of await socketsWith(prefix)) {
    const file = path.join(WG_SOCKET_DIR, name);
    if (await stale(file)) await rm(file, { force: true });
  }
}

/** What is still there for `prefix` (expect all three empty after cleanup). */
export async function leftovers(prefix: string): Promise<Leftovers> {
  const namespaces = await namespacesWith(prefix);
  const pids = (await Promise.all(namespaces.map(pidsIn))).flat();
  return { namespaces, links: await rootLinksWith(prefix), pids, sockets: await socketsWith(prefix) };
}

export class NetnsHarness {
  readonly #namespaces = new Set<string>();
  readonly #spawned = new Set<Spawned>();
  readonly #deferred: Array<() => Promise<void> | void> = [];
  #links = 0;

  private constructor(readonly prefix: string) {}

  /**
   * A harness for `prefix` (2-8 lowercase letters/digits, unique per test file). Fails loudly when
   * not root or `ip` is missing; removes a crashed earlier run's leftovers first.
   */
  static async create(prefix: string): Promise<NetnsHarness> {
    if (!/^[a-z][a-z0-9]{1,7}$/.test(prefix)) throw new Error(`netns prefix "${prefix}": expected 2-8 lowercase letters and digits`);
    requireTool('ip', 'apt-get install iproute2');
    if (!isRoot()) throw new Error('network namespace tests need root (or CAP_SYS_ADMIN + CAP_NET_ADMIN): run them as root, as CI does');
    await cleanupPrefix(prefix);
    return new NetnsHarness(prefix);
  }

  /** Create `<prefix>-<name>` with loopback up; returns the full namespace name. */
  async namespace(name: string): Promise<string> {
    const ns = `${this.prefix}-${name}`;
    this.#namespaces.add(ns);
    await ipOk(['netns', 'add', ns]);
    await ipOk(['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A veth pair between two namespaces, addressed and up. `cidrA`/`cidrB` like `10.201.1.1/24`. */
  async link(nsA: string, cidrA: string, nsB: string, cidrB: string): Promise<NetnsLink> {
    const n = ++this.#links;
    const a = `${this.prefix}v${n}a`;
    const b = `${this.prefix}v${n}b`;
    await ipOk(['link', 'add', 'name', a, 'netns', nsA, 'type', 'veth', 'peer', 'name', b, 'netns', nsB]);
    await ipOk(['-n', nsA, 'address', 'add', cidrA, 'dev', a]);
    await ipOk(['-n', nsB, 'address', 'add', cidrB, 'dev', b]);
    await ipOk(['-n', nsA, 'link', 'set', a, 'up']);
    await ipOk(['-n', nsB, 'link', 'set', b, 'up']);
    return { a, b, addrA: cidrA.split('/')[0]!, addrB: cidrB.split('/')[0]! };
  }

  /** Run a command inside `ns` to completion (never rejects on a non-zero exit). */
  exec(ns: string, cmd: string, args: string[], options: SpawnOptions & { timeoutMs?: number } = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], options);
  }

  /** Like exec, but throws with the output when the command fails. */
  async execOk(ns: string, cmd: string, args: string[], options: SpawnOptions & { timeoutMs?: number } = {}): Promise<string> {
    const r = await this.exec(ns, cmd, args, options);
    if (r.code !== 0) throw new Error(`[${ns}] ${cmd} ${args.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
    return r.stdout;
  }

  /** Start a long-running process inside `ns`; stopped by cleanup() at the latest. */
  spawn(ns: string, cmd: string, args: string[], options: SpawnOptions = {}): Spawned {
    const s = spawnTracked('ip', ['netns', 'exec', ns, cmd, ...args], options);
    this.#spawned.add(s);
    void s.exited.then(() => this.#spawned.delete(s));
    return s;
  }

  /** Run `fn` during cleanup, before processes are killed (e.g. `vpn.down()`). Errors are collected. */
  defer(fn: () => Promise<void> | void): void {
    this.#deferred.push(fn);
  }

  /**
   * Tear everything down; safe to call twice. Deferred callbacks first (newest first), then tracked
   * processes, then every process still inside the namespaces, then the namespaces and links.
   * Throws after finishing if something could not be removed.
   */
  async cleanup(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.#deferred.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    await Promise.all([...this.#spawned].map((s) => s.stop('SIGTERM', 2000).catch((err: unknown) => errors.push(err))));
    this.#spawned.clear();
    await cleanupPrefix(this.prefix);
    this.#namespaces.clear();
    const left = await leftovers(this.prefix);
    if (left.namespaces.length || left.links.length || left.pids.length || left.sockets.length) errors.push(new Error(`netns leftovers: ${JSON.stringify(left)}`));
    if (errors.length > 0) throw new AggregateError(errors, `netns cleanup for ${this.prefix}: ${errors.map(String).join('; ')}`);
  }
}
