// Running the app image as the test's origin and node: podman run/exec with the image's own entry
// point, host ports published on loopback only, state in named volumes.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../helpers/process.js';
import type { Podman } from './podman.js';

/**
 * The tun device to hand a container. wireguard-go runs as the image's non-root user, so the
 * device must be usable by others, as the kernel creates it (crw-rw-rw-). A host that made
 * /dev/net/tun root-only gets a test-owned node for the same device (10:200) with the kernel's
 * mode; the host's own node is never changed.
 */
export async function tunDevice(): Promise<{ path: string; note?: string; remove(): void }> {
  const host = '/dev/net/tun';
  const mode = statSync(host).mode & 0o777;
  if ((mode & 0o006) === 0o006) return { path: host, remove() {} };
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-tun-'));
  const node = path.join(dir, 'tun');
  const made = await run('mknod', ['-m', '0666', node, 'c', '10', '200']);
  if (made.code !== 0) throw new Error(`mknod ${node} c 10 200 failed: ${made.stderr}`);
  return {
    path: node,
    note: `${host} is mode ${mode.toString(8)} here (root only): containers get ${node}, the same device with the kernel's mode 666`,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Started {
  name: string;
  /** Host port (on 127.0.0.1) for each published container port. */
  ports: Record<number, number>;
}

export class HavenContainers {
  constructor(
    private readonly podman: Podman,
    readonly image: string,
    readonly prefix: string,
    readonly network: string,
    readonly tun: string,
  ) {}

  volume(role: string): string {
    const v = `${this.prefix}-${role}`;
    this.podman.made.volumes.add(v);
    return v;
  }

  /** A one-off `haven …` in a throw-away container on the role's volume (as `docker compose run --rm`). */
  async once(role: string, env: Record<string, string>, args: string[], timeoutMs = 60_000) {
    return this.podman.run(['run', '--rm', '--health-interval', 'disable', ...envArgs(env), '-v', `${this.volume(role)}:/data`, this.image, ...args], timeoutMs);
  }

  /** `haven start` detached, with NET_ADMIN and the tun device, on the test network at `ip`. */
  async start(role: string, o: { ip: string; env: Record<string, string>; publish: number[] }): Promise<Started> {
    const name = `${this.prefix}-${role}`;
    this.podman.made.containers.add(name);
    await this.podman.ok([
      'run', '-d', '--name', name, '--health-interval', 'disable',
      '--network', this.network, '--ip', o.ip,
      '--cap-add', 'NET_ADMIN', '--device', `${this.tun}:/dev/net/tun`,
      ...envArgs(o.env),
      '-v', `${this.volume(role)}:/data`,
      ...o.publish.flatMap((p) => ['-p', `127.0.0.1::${p}`]),
      this.image, 'start',
    ]);
    return { name, ports: await this.ports(name, o.publish) };
  }

  async ports(name: string, published: number[]): Promise<Record<number, number>> {
    const out: Record<number, number> = {};
    for (const p of published) {
      const line = (await this.podman.ok(['port', name, `${p}/tcp`])).trim();
      const m = /^127\.0\.0\.1:(\d+)$/m.exec(line);
      if (!m) throw new Error(`${name}: port ${p} is published as "${line}", expected 127.0.0.1:<port>`);
      out[p] = Number(m[1]);
    }
    return out;
  }

  /** `haven …` inside the running container, as the image's user. */
  exec(name: string, args: string[], timeoutMs = 60_000) {
    return this.podman.run(['exec', name, 'haven', ...args], timeoutMs);
  }

  async logs(name: string): Promise<string> {
    const r = await this.podman.run(['logs', name]);
    return r.stdout + r.stderr;
  }
}

const envArgs = (env: Record<string, string>) => Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
