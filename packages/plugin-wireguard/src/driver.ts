import type { ChildProcess } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { wgError } from './errors.js';
import { Exec } from './exec.js';
import { parseDump, type WgDump } from './dump.js';

export type Implementation = 'kernel' | 'userspace';

export interface DriverOptions {
  interfaceName: string;
  exec: Exec;
  /** `auto` (default): kernel WireGuard when `ip link add type wireguard` works, else wireguard-go. */
  implementation?: 'auto' | Implementation;
  /** wireguard-go exited while the interface was up. */
  onUnexpectedExit?: (error: Error) => void;
}

export interface PeerSpec {
  publicKey: string;
  allowedIps: string[];
  endpoint?: string;
  persistentKeepaliveSec?: number;
}

/** wireguard-go's control sockets; one directory shared by every network namespace. */
export const WG_SOCKET_DIR = '/var/run/wireguard';

const USERSPACE_ENV = { WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' };

/**
 * One WireGuard interface driven with `ip` and `wg`: created in the kernel where it can be, by a
 * supervised `wireguard-go -f` child otherwise. Every peer change is a single `wg set` so other
 * peers' sessions are never touched.
 */
export class WgDriver {
  readonly name: string;
  readonly exec: Exec;
  #implementation: Implementation | undefined;
  #child: ChildProcess | undefined;
  #childExit: Promise<void> | undefined;
  #childOutput = '';
  #stopping = false;

  constructor(private readonly options: DriverOptions) {
    this.name = options.interfaceName;
    this.exec = options.exec;
  }

  get implementation(): Implementation | undefined {
    return this.#implementation;
  }

  /** Something to tear down: an interface this driver created or a wireguard-go still running. */
  get active(): boolean {
    return this.#implementation !== undefined || this.#child !== undefined;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Create the interface, removing a leftover of the same name (a crashed earlier run) first. */
  /** The last start's wireguard-go exited before its interface came up. */
  #exitedEarly = false;
  #starting = false;

  async create(): Promise<Implementation> {
    this.#stopping = false;
    await this.#deleteLink();
    const wanted = this.options.implementation ?? 'auto';
    if (wanted !== 'userspace') {
      const res = await this.exec.run('ip', ['link', 'add', 'dev', this.name, 'type', 'wireguard'], { allowFail: true });
      if (res.code === 0) return (this.#implementation = 'kernel');
      if (wanted === 'kernel') throw this.exec.classify('ip', ['link', 'add', 'dev', this.name, 'type', 'wireguard'], res);
    }
    await this.#controlSocketFree();
    try {
      await this.#startUserspace();
    } catch (err) {
      await this.destroy().catch(() => {});
      // wireguard-go that exited at once (its control socket raced with another one's clean-up in the
      // shared socket folder) gets one more try; a second failure is the answer.
      if (!this.#exitedEarly) throw err;
      this.#stopping = false;
      await sleep(300);
      try {
        await this.#startUserspace();
      } catch (again) {
        await this.destroy().catch(() => {});
        throw again;
      }
    }
    return (this.#implementation = 'userspace');
  }

  /**
   * Wait until no wireguard-go holds this interface's control socket. A wireguard-go of the same name
   * that is still ending (its link was deleted a moment ago: a restart, or a leftover of a crashed run)
   * removes its socket on its way out; one started meanwhile finds the socket taken, tries it, and
   * fails to remove it when the old one has just done so: "Failed to listen on uapi socket: no such
   * file or directory". A socket nobody answers on is removed here. At most 3 s; then wireguard-go
   * itself says what holds it.
   */
  async #controlSocketFree(): Promise<void> {
    const file = `${WG_SOCKET_DIR}/${this.name}.sock`;
    for (let i = 0; i < 60; i++) {
      if (!(await stat(file).then(() => true, () => false))) return;
      if (!(await answers(file))) {
        await rm(file, { force: true }).catch(() => {});
        return;
      }
      await sleep(50);
    }
  }

  async #startUserspace(): Promise<void> {
    this.#exitedEarly = false;
    this.#starting = true;
    try {
      await this.#spawnUserspace();
    } finally {
      this.#starting = false;
    }
  }

  async #spawnUserspace(): Promise<void> {
    // Probe the binary first so "not installed" names the package instead of a vague exit.
    await this.exec.run('wireguardGo', ['--version'], { allowFail: true }).then((r) => {
      if (r.code !== 0) throw this.exec.classify('wireguardGo', ['--version'], r);
    });
    const child = this.exec.spawn('wireguardGo', ['-f', this.name], USERSPACE_ENV);
    this.#child = child;
    this.#childOutput = '';
    const keep = (d: Buffer) => {
      this.#childOutput = (this.#childOutput + d.toString()).slice(-2000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#childExit = new Promise<void>((resolve) => {
      child.once('error', () => resolve());
      child.once('close', (code, signal) => {
        if (this.#child === child) this.#child = undefined;
        // An exit while starting is the start's failure (thrown by it), not a running tunnel's.
        if (!this.#stopping && !this.#starting) {
          this.options.onUnexpectedExit?.(
            wgError('USERSPACE_FAILED', `wireguard-go for ${this.name} exited (${signal ?? `code ${code}`}): ${errorLines(this.#childOutput) || 'no output'}`, {
              details: { interface: this.name, code, signal },
            }),
          );
        }
        resolve();
      });
    });
    // Ready once `wg` can talk to its control socket.
    for (let i = 0; i < 200; i++) {
      if (!this.#child) {
        this.#exitedEarly = true;
        throw wgError('USERSPACE_FAILED', `wireguard-go could not create ${this.name}: ${errorLines(this.#childOutput) || 'it exited without output'}`, {
          details: { interface: this.name },
        });
      }
      const res = await this.exec.run('wg', ['show', this.name, 'listen-port'], { allowFail: true });
      if (res.code === 0) return;
      await sleep(50);
    }
    throw wgError('USERSPACE_FAILED', `wireguard-go did not bring ${this.name} up within 10 s`, { details: { interface: this.name } });
  }

  /**
   * The private key goes by the path of its 0600 file, never on a command line where `ps` shows
   * it. (`/dev/stdin` does not work: Node's child stdin is a socket, which wg cannot fopen.)
   */
  async configure(privateKeyFile: string, listenPort: number): Promise<void> {
    await this.exec.run('wg', ['set', this.name, 'private-key', privateKeyFile, 'listen-port', String(listenPort)]);
  }

  async addAddress(cidr: string): Promise<void> {
    await this.exec.run('ip', ['address', 'replace', cidr, 'dev', this.name]);
  }

  async linkUp(mtu: number): Promise<void> {
    await this.exec.run('ip', ['link', 'set', 'dev', this.name, 'mtu', String(mtu), 'up']);
  }

  async addRoute(cidr: string): Promise<void> {
    await this.exec.run('ip', ['route', 'replace', cidr, 'dev', this.name]);
  }

  async deleteRoute(cidr: string): Promise<void> {
    await this.exec.run('ip', ['route', 'del', cidr, 'dev', this.name], { allowFail: true });
  }

  /** Add or update exactly one peer. */
  async setPeer(peer: PeerSpec): Promise<void> {
    const args = ['set', this.name, 'peer', peer.publicKey, 'allowed-ips', peer.allowedIps.join(',')];
    if (peer.endpoint) args.push('endpoint', peer.endpoint);
    args.push('persistent-keepalive', peer.persistentKeepaliveSec ? String(peer.persistentKeepaliveSec) : 'off');
    await this.exec.run('wg', args);
  }

  async removePeer(publicKey: string): Promise<void> {
    await this.exec.run('wg', ['set', this.name, 'peer', publicKey, 'remove']);
  }

  async dump(): Promise<WgDump> {
    const res = await this.exec.run('wg', ['show', this.name, 'dump']);
    return parseDump(res.stdout);
  }

  /** Remove the interface and make sure wireguard-go has exited. Safe to call twice. */
  async destroy(): Promise<void> {
    this.#stopping = true;
    await this.#deleteLink();
    const child = this.#child;
    if (child && this.#childExit) {
      // Deleting the tun device makes wireguard-go exit by itself; signals are the fallback.
      const exited = await Promise.race([this.#childExit.then(() => true), sleep(2000).then(() => false)]);
      if (!exited) {
        child.kill('SIGTERM');
        const termed = await Promise.race([this.#childExit.then(() => true), sleep(2000).then(() => false)]);
        if (!termed) {
          child.kill('SIGKILL');
          await this.#childExit;
        }
        // A killed wireguard-go leaves its control socket behind.
        await rm(`${WG_SOCKET_DIR}/${this.name}.sock`, { force: true }).catch(() => {});
      }
    }
    this.#child = undefined;
    this.#childExit = undefined;
    this.#implementation = undefined;
  }

  async #deleteLink(): Promise<void> {
    await this.exec.run('ip', ['link', 'del', 'dev', this.name], { allowFail: true });
  }
}

/** Whether something listens on the unix socket `file` (connects within 500 ms). */
function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(file);
    const done = (yes: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(yes);
    };
    const timer = setTimeout(() => done(false), 500);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** wireguard-go's own error lines (its userspace warning box says nothing about the failure), else its last output. */
function errorLines(output: string): string {
  const errors = output.split('\n').filter((l) => /^ERROR/.test(l.trim()));
  return (errors.length > 0 ? errors.join('; ') : output.trim()).slice(-300);
}
