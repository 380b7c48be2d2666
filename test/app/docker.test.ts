// No Docker engine runs here: check what can be checked without one. The Dockerfile's stages and
// files, the compose files' shape, and the image's build step itself (`pnpm deploy` of the app)
// run for real, and the deployed app answers.
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { run } from '../helpers/process.js';
import { repoRoot } from '../helpers/tools.js';

const appDir = path.join(repoRoot, 'examples/docker-app');
const dockerfile = readFileSync(path.join(appDir, 'Dockerfile'), 'utf8');
const lines = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

const tmp: string[] = [];
afterAll(async () => {
  for (const d of tmp) await rm(d, { recursive: true, force: true });
});

describe('Dockerfile', () => {
  const stages = lines.filter((l) => /^FROM /i.test(l)).map((l) => /\sAS\s+(\S+)/i.exec(l)?.[1]);

  it('is multi-stage with a non-root runtime', () => {
    expect(stages).toEqual(['mediamtx', 'build', 'runtime']);
    const user = lines.filter((l) => /^USER /.test(l)).pop();
    expect(user).toBe('USER haven');
    expect(dockerfile).toMatch(/setcap cap_net_admin\+ep \/usr\/bin\/wg/);
  });

  it('copies only from its own stages and from files that exist', () => {
    for (const l of lines.filter((x) => /^COPY /.test(x))) {
      const from = /--from=(\S+)/.exec(l)?.[1];
      const parts = l.replace(/--\S+/g, '').split(/\s+/).slice(1);
      if (from) {
        expect(stages, l).toContain(from);
        continue;
      }
      for (const src of parts.slice(0, -1)) expect(existsSync(path.join(repoRoot, src)), `${src} in ${l}`).toBe(true);
    }
  });

  it('exposes the ports the app listens on by default', () => {
    const expose = lines.find((l) => l.startsWith('EXPOSE'))!.split(/\s+/).slice(1);
    expect(expose).toEqual(['8554/tcp', '1935/tcp', '8890/udp', '8888/tcp', '51820/udp']);
  });

  it('runs the entry point the app package declares', () => {
    const pkg = JSON.parse(readFileSync(path.join(appDir, 'package.json'), 'utf8')) as { bin: { haven: string } };
    expect(dockerfile).toContain(`/app/${pkg.bin.haven.replace(/^\.\//, '')}`);
  });

  it("its build stage works: the files it copies, its RUN commands, a runnable deployed CLI", async () => {
    // Replay the build stage in a bare folder holding only what its COPY lines bring in, so a file
    // the image build would miss fails here.
    const ctx = await mkdtemp(path.join(tmpdir(), 'haven-docker-ctx-'));
    const out = await mkdtemp(path.join(tmpdir(), 'haven-deploy-'));
    tmp.push(ctx, out);
    await rm(out, { recursive: true });
    const stage = lines.slice(lines.findIndex((l) => /^FROM .* AS build$/.test(l)), lines.findIndex((l) => /^FROM .* AS runtime$/.test(l)));
    for (const l of stage.filter((x) => /^COPY /.test(x))) {
      const parts = l.split(/\s+/).slice(1);
      const dest = parts.pop()!;
      for (const src of parts) {
        const target = dest.endsWith('/') || dest === '.' || dest === './' ? path.join(ctx, path.basename(src)) : path.join(ctx, dest);
        await cp(path.join(repoRoot, src), target, { recursive: true, filter: (f) => !/(^|\/)(node_modules|dist)(\/|$)/.test(path.relative(repoRoot, f)) });
      }
    }
    const runs = stage.filter((x) => /^RUN /.test(x)).map((x) => x.slice(4)).filter((x) => !x.startsWith('npm install -g'));
    expect(runs).toHaveLength(1);
    const script = runs[0]!.replace('--frozen-lockfile', '--frozen-lockfile --prefer-offline').replace(/ \/out$/, ` ${out}`);
    const d = await run('sh', ['-c', script], { cwd: ctx, timeoutMs: 300_000 });
    expect(d.code, d.stderr.slice(-3000) + d.stdout.slice(-3000)).toBe(0);
    expect(existsSync(path.join(out, 'src'))).toBe(false);
    const help = await run(process.execPath, [path.join(out, 'dist/cli.js'), '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/Usage: haven/);
    const home = await mkdtemp(path.join(tmpdir(), 'haven-deploy-home-'));
    tmp.push(home);
    expect((await run(process.execPath, [path.join(out, 'dist/cli.js'), '--dir', home, 'init'])).code).toBe(0);
    const r = await run(process.execPath, [path.join(out, 'dist/cli.js'), '--dir', home, 'route', '8.8.8.8', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).viewer.country).toBe('US');
  });
});

describe.each(['docker-compose.yml', 'docker-compose.node.yml'])('%s', (file) => {
  const compose = parse(readFileSync(path.join(appDir, file), 'utf8')) as {
    services: Record<string, { build: { context: string; dockerfile: string }; command: string[]; cap_add: string[]; devices: string[]; ports: string[]; volumes: string[] }>;
    volumes: Record<string, unknown>;
  };
  const svc = compose.services.haven!;

  it('builds from this repository with the Dockerfile', () => {
    const ctx = path.resolve(appDir, svc.build.context);
    expect(ctx).toBe(path.resolve(repoRoot));
    expect(existsSync(path.join(ctx, svc.build.dockerfile))).toBe(true);
  });

  it('gives WireGuard what it needs and keeps state in a named volume', () => {
    expect(svc.cap_add).toEqual(['NET_ADMIN']);
    expect(svc.devices).toEqual(['/dev/net/tun:/dev/net/tun']);
    const [vol, target] = svc.volumes[0]!.split(':');
    expect(target).toBe('/data');
    expect(Object.keys(compose.volumes)).toContain(vol);
  });

  it('publishes the RTSP port, and the control API on loopback only', () => {
    expect(svc.ports).toContain('8554:8554/tcp');
    expect(svc.ports.find((p) => p.endsWith(':8880/tcp'))).toMatch(/^127\.0\.0\.1:/);
  });

  it("runs a command the CLI knows", async () => {
    const cmd = svc.command[0]!;
    const r = await run(process.execPath, [path.join(appDir, 'dist/cli.js'), cmd, '--help']);
    expect(r.code, r.stderr).toBe(0);
  });
});
