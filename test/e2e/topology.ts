/**
 * A whole Haven in network namespaces, for end-to-end tests (needs root).
 *
 * An "internet" namespace routes between hosts; every host (origin, nodes, viewers, publisher) is a
 * namespace with its own /24 towards it (`172.31.<n>.2`, gateway `.1`), so each one is a different
 * "place" the origin's geo overrides can map. The real `haven` CLI runs inside the namespaces with
 * `ip netns exec`; every process, namespace, veth and wireguard-go socket with the prefix is
 * removed by `cleanup()`, on success and on failure. Traffic goes only to these addresses.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDocument } from 'yaml';
import { alive, killNamespace, NetnsHarness } from '../helpers/netns.js';
import { run, waitFor, type Spawned } from '../helpers/process.js';
import { sharedTmpdir } from '../helpers/shared-tmpdir.js';
import { mediamtxBin, repoRoot, requireTool } from '../helpers/tools.js';

export const CLI = path.join(repoRoot, 'examples/docker-app/dist/cli.js');

/** One machine on the test internet. */
export interface Host {
  name: string;
  ns: string;
  /** Its address on the internet. */
  ip: string;
  /** Its subnet (a "place" for geo overrides), e.g. `172.31.1.0/24`. */
  subnet: string;
}

/** A `haven start` running in a host's namespace. */
export interface HavenProcess {
  host: Host;
  dir: string;
  proc: Spawned;
  /** ms since epoch when `haven start` printed `ready.`. */
  readyAt: number;
}

type RunResult = Awaited<ReturnType<typeof run>>;

export class Topology {
  readonly hosts = new Map<string, Host>();
  readonly havens = new Map<string, HavenProcess>();
  /** Exited `haven start` outputs, kept for diagnostics. */
  readonly #pastLogs: string[] = [];
  readonly #publishers: Spawned[] = [];
  readonly env: NodeJS.ProcessEnv;

  private constructor(
    readonly h: NetnsHarness,
    readonly inet: string,
    readonly base: string,
    private readonly unlock: () => Promise<void>,
  ) {
    this.env = { ...process.env, MEDIAMTX_BIN: mediamtxBin(), HAVEN_DIR: '', NO_COLOR: '1' };
  }

  /**
   * The internet namespace (IP forwarding on); hosts are added with `host()`. Waits (up to
   * `lockWaitMs`) while another run with the same prefix is alive: the harness removes everything
   * with its prefix first, which would tear that run down.
   */
  static async create(prefix: string, lockWaitMs = 240_000): Promise<Topology> {
    requireTool('wg', 'apt-get install wireguard-tools');
    requireTool('wireguard-go', 'apt-get install wireguard-go');
    requireTool('ffmpeg', 'apt-get install ffmpeg');
    requireTool('ffprobe', 'apt-get install ffmpeg');
    const unlock = await lock(prefix, lockWaitMs);
    let h: NetnsHarness;
    try {
      h = await NetnsHarness.create(prefix);
    } catch (err) {
      await unlock();
      throw err;
    }
    // A run killed before its afterAll leaves its folder; its processes went with the namespaces.
    for (const old of (await readdir(tmpdir())).filter((n) => n.startsWith(`${prefix}-`))) await rm(path.join(tmpdir(), old), { recursive: true, force: true });
    const base = await mkdtemp(path.join(tmpdir(), `${prefix}-`));
    try {
      const inet = await h.namespace('inet');
      // /proc/sys/net is per network namespace: this turns forwarding on for the internet only.
      await h.execOk(inet, 'sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
      return new Topology(h, inet, base, unlock);
    } catch (err) {
      await h.cleanup().catch(() => {});
      await rm(base, { recursive: true, force: true });
      await unlock();
      throw err;
    }
  }

  /** A namespace on subnet `172.31.<index>.0/24`, reaching every other host through the internet. */
  async host(name: string, index: number): Promise<Host> {
    const ns = await this.h.namespace(name);
    const net = `172.31.${index}`;
    await this.h.link(this.inet, `${net}.1/24`, ns, `${net}.2/24`);
    await this.h.execOk(ns, 'ip', ['route', 'add', 'default', 'via', `${net}.1`]);
    const host: Host = { name, ns, ip: `${net}.2`, subnet: `${net}.0/24` };
    this.hosts.set(name, host);
    return host;
  }

  /** A fresh folder for a Haven (origin or node) of `host`. */
  async dir(host: Host): Promise<string> {
    const d = path.join(this.base, host.name);
    await mkdir(d, { recursive: true });
    return d;
  }

  exec(host: Host, cmd: string, args: string[], timeoutMs = 30_000): Promise<RunResult> {
    return this.h.exec(host.ns, cmd, args, { env: this.env, timeoutMs });
  }

  /** Run the `haven` CLI inside the host's namespace. */
  cli(host: Host, dir: string, args: string[], timeoutMs = 30_000): Promise<RunResult> {
    return this.exec(host, process.execPath, [CLI, '--dir', dir, ...args], timeoutMs);
  }

  /** Like `cli`, but throws with its output on a non-zero exit. */
  async cliOk(host: Host, dir: string, args: string[], timeoutMs = 30_000): Promise<RunResult> {
    const r = await this.cli(host, dir, args, timeoutMs);
    if (r.code !== 0) throw new Error(`[${host.name}] haven ${args[0]} ${args[1] ?? ''} failed (exit ${r.code}):\n${r.stderr.slice(-2000)}`);
    return r;
  }

  /** Edit `<dir>/haven.yaml` as a YAML document. */
  /**
   * A node as its owner sets it up, added at the origin: `haven init --role node` on `host`, its share
   * code from `node keygen`, and `node add` of that code at the origin (not running, or running).
   * Returns the node's folder, the share code and what `node add --json` said (the bundle for `node join`).
   */
  async addNode(origin: Host, originDir: string, host: Host, name: string, region: string): Promise<{ dir: string; share: string; added: RunResult; bundle: string }> {
    const dir = await this.dir(host);
    await this.cliOk(host, dir, ['init', '--role', 'node', '--name', name, '--region', region, '--public-host', host.ip]);
    const share = (await this.cliOk(host, dir, ['node', 'keygen', '--region', region])).stdout.trim();
    const added = await this.cliOk(origin, originDir, ['node', 'add', share, '--json']);
    return { dir, share, added, bundle: (JSON.parse(added.stdout) as { bundle: string }).bundle };
  }

  /**
   * OBS as the tests play it: ffmpeg sends a 320x240 test picture (H.264, a keyframe a second) to
   * `rtmpUrl` from `host` for `seconds`. Stopped by `cleanup()` before the havens.
   */
  publish(host: Host, rtmpUrl: string, o: { fps?: number; seconds?: number } = {}): Spawned {
    const fps = String(o.fps ?? 25);
    const p = this.h.spawn(host.ns, 'ffmpeg', [
      '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=${fps}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', fps, '-t', String(o.seconds ?? 600), '-f', 'flv', rtmpUrl,
    ]);
    this.#publishers.push(p);
    return p;
  }

  async editConfig(dir: string, edit: (doc: ReturnType<typeof parseDocument>) => void): Promise<void> {
    const file = path.join(dir, 'haven.yaml');
    const doc = parseDocument(await readFile(file, 'utf8'));
    edit(doc);
    await writeFile(file, doc.toString());
  }

  /** `haven start` in the host's namespace; resolves once it printed `ready.`. */
  async start(host: Host, dir: string, timeoutMs = 60_000): Promise<HavenProcess> {
    const proc = this.h.spawn(host.ns, process.execPath, [CLI, '--dir', dir, 'start'], { env: this.env });
    void proc.exited.then(() => this.#pastLogs.push(`----- ${host.name} (exited ${proc.child.exitCode ?? proc.child.signalCode}) -----\n${proc.output()}`));
    await waitFor(
      `haven start on ${host.name}`,
      () => proc.output().includes('ready.') || (proc.child.exitCode !== null && Promise.reject(new Error(proc.output().slice(-3000)))),
      timeoutMs,
      100,
    );
    const hp: HavenProcess = { host, dir, proc, readyAt: Date.now() };
    this.havens.set(host.name, hp);
    return hp;
  }

  /** A JSON request from inside the host's namespace (the control API listens on its loopback). */
  async fetchJson<T>(host: Host, url: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<T> {
    const script = `
      const [url, method, token, body] = process.argv.slice(1);
      const headers = {};
      if (token) headers.authorization = 'Bearer ' + token;
      if (body) headers['content-type'] = 'application/json';
      const res = await fetch(url, { method, headers, body: body || undefined, signal: AbortSignal.timeout(10000) });
      const text = await res.text();
      if (!res.ok) { process.stderr.write(res.status + ' ' + text); process.exit(2); }
      process.stdout.write(text);`;
    const r = await this.exec(host, process.execPath, ['--input-type=module', '-e', script, url, init.method ?? 'GET', init.token ?? '', init.body === undefined ? '' : JSON.stringify(init.body)]);
    if (r.code !== 0) throw new Error(`[${host.name}] ${init.method ?? 'GET'} ${url}: ${r.stderr.slice(0, 500)}`);
    return JSON.parse(r.stdout) as T;
  }

  /** WireGuard byte counters per peer public key, read with `wg show <if> transfer` in the namespace. */
  async wgTransfer(host: Host, ifname: string): Promise<Map<string, { rx: number; tx: number }>> {
    const out = await this.h.execOk(host.ns, 'wg', ['show', ifname, 'transfer']);
    const m = new Map<string, { rx: number; tx: number }>();
    for (const line of out.trim().split('\n')) {
      const [key, rx, tx] = line.trim().split(/\s+/);
      if (key && rx !== undefined && tx !== undefined) m.set(key, { rx: Number(rx), tx: Number(tx) });
    }
    return m;
  }

  /** TCP peers (`ip:port`) of established connections in the namespace. */
  async tcpPeers(host: Host): Promise<string[]> {
    const out = await this.h.execOk(host.ns, 'ss', ['-Htn', 'state', 'established']);
    return out
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).pop() ?? '')
      .filter(Boolean);
  }

  /**
   * The machine dies: SIGKILL every process in its namespace (haven, MediaMTX, wireguard-go). The
   * dead wireguard-go's control socket goes too, as a reboot would take it.
   */
  async killHost(host: Host): Promise<number[]> {
    const pids = await killNamespace(host.ns, { sigkill: true });
    await waitFor(`processes of ${host.name} to exit`, async () => (await run('ip', ['netns', 'pids', host.ns])).stdout.trim() === '', 10_000, 50);
    return pids;
  }

  /** Every haven's output so far (running and exited), for failure diagnostics. */
  logs(): string {
    const running = [...this.havens.values()]
      .filter((p) => p.proc.child.exitCode === null && p.proc.child.signalCode === null)
      .map((p) => `----- ${p.host.name} (running) -----\n${p.proc.output()}`);
    return [...this.#pastLogs, ...running].join('\n');
  }

  /** Stop the publishers and every haven with SIGTERM (clean stop), then tear down everything with the prefix. */
  async cleanup(): Promise<void> {
    await Promise.all(this.#publishers.map((p) => p.stop('SIGTERM', 5000).catch(() => {})));
    await Promise.all([...this.havens.values()].map((p) => p.proc.stop('SIGTERM', 8000).catch(() => {})));
    await sleep(50);
    try {
      await this.h.cleanup();
    } finally {
      await rm(this.base, { recursive: true, force: true });
      await this.unlock();
    }
  }
}


/**
 * An exclusive lock per prefix (`<shared tmpdir>/<prefix>.lock` holding the owner's pid); a dead owner's
 * lock is taken over. In the machine's temp folder, not the test file's own: the namespaces it guards
 * are machine-wide, and another run (a benchmark, another clone) must see it.
 */
async function lock(prefix: string, waitMs: number): Promise<() => Promise<void>> {
  const file = path.join(sharedTmpdir(), `${prefix}.lock`);
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (owner > 0 && !alive(owner)) {
      await rm(file, { force: true });
      continue;
    }
    // owner 0: the file was just created and its pid is being written.
    if (Date.now() > deadline) throw new Error(`another run (pid ${owner}) still holds ${file} after ${waitMs} ms: wait for it, or remove the file if that process is not a test`);
    if (!told && owner > 0) console.log(`[${prefix}] waiting for another run (pid ${owner}) to finish`);
    told = true;
    await sleep(owner > 0 ? 1000 : 100);
  }
}

/**
 * The steps of one scenario, run in order: the first failure prints the logs `dump()` gives (mask
 * secrets in it) once, and every later step fails fast instead of timing out on a broken Haven.
 */
export class Steps {
  failed = false;
  constructor(private readonly dump: () => string) {}

  readonly run = async (fn: () => Promise<void>): Promise<void> => {
    if (this.failed) throw new Error('not run: an earlier step failed');
    try {
      await fn();
    } catch (err) {
      this.failed = true;
      console.log(`\n===== haven logs at the failure =====\n${this.dump()}`);
      throw err;
    }
  };
}

/** The end of a publisher's output, for a failure's log dump. */
export function publisherTail(p: Spawned | undefined): string {
  return p ? `----- publisher -----\n${p.output().slice(-3000)}` : '';
}
