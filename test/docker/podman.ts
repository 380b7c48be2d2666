// Podman for the Docker tests: runc (crun fails on this cgroup layout), ulimits within the
// machine's hard limits, and a record of everything a test creates so it can remove it all.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../helpers/process.js';
import { requireTool } from '../helpers/tools.js';

export interface CmdResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A containers.conf for every podman (and podman-compose) call of a test: runtime and ulimits. */
function containersConf(): { file: string; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-podman-'));
  const file = path.join(dir, 'containers.conf');
  writeFileSync(
    file,
    ['[containers]', 'default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]', '', '[engine]', 'runtime = "runc"', ''].join('\n'),
  );
  return { file, dir };
}

export class Podman {
  readonly bin = requireTool('podman', 'apt-get install podman runc');
  readonly #conf = containersConf();
  /** Environment for podman and podman-compose child processes. */
  readonly env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: this.#conf.file };
  /** What a test made. `tags` are untagged (an image that existed before keeps its other names); `images` are image IDs, removed. */
  readonly made = { containers: new Set<string>(), networks: new Set<string>(), volumes: new Set<string>(), tags: new Set<string>(), images: new Set<string>() };

  constructor() {
    requireTool('runc', 'apt-get install runc');
  }

  run(args: string[], timeoutMs = 120_000, env: NodeJS.ProcessEnv = {}): Promise<CmdResult> {
    return run(this.bin, args, { timeoutMs, env: { ...this.env, ...env } });
  }

  /** Run, and throw with the command's output when it fails. */
  async ok(args: string[], timeoutMs = 120_000, env: NodeJS.ProcessEnv = {}): Promise<string> {
    const r = await this.run(args, timeoutMs, env);
    if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}:\n${(r.stderr + r.stdout).slice(-4000)}`);
    return r.stdout;
  }

  async imageLabel(image: string, label: string): Promise<string | undefined> {
    const r = await this.run(['image', 'inspect', '--format', `{{index .Labels "${label}"}}`, image]);
    if (r.code !== 0) return undefined;
    const v = r.stdout.trim();
    return v && v !== '<no value>' ? v : undefined;
  }

  async imageExists(image: string): Promise<boolean> {
    return (await this.run(['image', 'exists', image])).code === 0;
  }

  async ids(kind: 'container' | 'volume' | 'network' | 'image'): Promise<string[]> {
    const args: Record<typeof kind, string[]> = {
      container: ['ps', '-a', '--format', '{{.Names}}'],
      volume: ['volume', 'ls', '--format', '{{.Name}}'],
      network: ['network', 'ls', '--format', '{{.Name}}'],
      image: ['images', '-a', '--format', '{{.ID}}'],
    };
    return (await this.ok(args[kind])).split('\n').map((s) => s.trim()).filter(Boolean);
  }

  /** Remove everything recorded in `made` (containers first); collects failures instead of stopping. */
  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    const rm = async (args: string[]) => {
      const r = await this.run(args, 120_000);
      if (r.code !== 0 && !/no such|not found|not known|no container|unknown/i.test(r.stderr)) problems.push(`podman ${args.join(' ')}: ${r.stderr.trim()}`);
    };
    for (const c of this.made.containers) await rm(['rm', '-f', '-t', '2', c]);
    for (const n of this.made.networks) await rm(['network', 'rm', '-f', n]);
    for (const v of this.made.volumes) await rm(['volume', 'rm', '-f', v]);
    for (const t of this.made.tags) if ((await this.run(['image', 'exists', t])).code === 0) await rm(['untag', t]);
    for (const i of this.made.images) await rm(['rmi', '-f', i]);
    return problems;
  }

  /** Remove the test's containers.conf (after the last podman call). */
  dispose(): void {
    rmSync(this.#conf.dir, { recursive: true, force: true });
  }
}
