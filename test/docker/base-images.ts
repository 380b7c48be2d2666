// The Dockerfile's base images, assembled on this machine under the exact names it uses (no
// registry for images is reachable here):
// - node:<NODE_VERSION>-bookworm-slim: a `debootstrap --variant=minbase` Debian rootfs from the
//   mirror apt uses, plus this machine's Node binary and npm, laid out as the official image does
//   (/usr/local/bin/node, /usr/local/lib/node_modules/npm). TEST ONLY: it trusts this machine's CA
//   bundle, since registry traffic from a build may pass a TLS-inspecting proxy. The project's
//   Dockerfile never adds anything of the sort.
// - bluenviron/mediamtx:<MEDIAMTX_VERSION>: the MediaMTX binary the set-up built, at /mediamtx as
//   in the official image.
// Each image carries a label with the hash of its inputs; an image with the same hash is reused
// (a cache between runs on one machine), a different one is rebuilt.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../helpers/process.js';
import { mediamtxBin, repoRoot, requireTool } from '../helpers/tools.js';
import type { Podman } from './podman.js';

export const INPUTS_LABEL = 'dev.stream-haven.test-inputs';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const recipe = readFileSync(fileURLToPath(import.meta.url));

/** The base image names and versions the Dockerfile declares (its ARG defaults). */
export function dockerfileBases(dockerfile: string): { node: string; nodeMajor: string; mediamtx: string; mediamtxVersion: string } {
  const arg = (name: string) => {
    const m = new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(dockerfile);
    if (!m) throw new Error(`the Dockerfile has no "ARG ${name}=<default>"`);
    return m[1]!;
  };
  const nodeMajor = arg('NODE_VERSION');
  const mediamtxVersion = arg('MEDIAMTX_VERSION');
  const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
  const node = froms.find((f) => f.startsWith('node:'))!.replace('${NODE_VERSION}', nodeMajor);
  const mediamtx = froms.find((f) => f.startsWith('bluenviron/mediamtx:'))!.replace('${MEDIAMTX_VERSION}', mediamtxVersion);
  return { node, nodeMajor, mediamtx, mediamtxVersion };
}

/** Short names resolve to docker.io, as Docker does. */
const qualified = (name: string) => (name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`);

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const fileHash = (file: string) => sha256(readFileSync(file));

/** The Debian mirror and proxy apt uses here (debootstrap must take the same way out). */
export function aptSource(): { mirror: string; proxy?: string } {
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').map((f) => `/etc/apt/sources.list.d/${f}`) : [])];
  for (const f of files.filter((x) => /\.(list|sources)$/.test(x) && existsSync(x))) {
    const text = readFileSync(f, 'utf8');
    // deb822 (.sources): a stanza with "URIs:" and "Suites:" naming the release.
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/im.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/im.exec(stanza)?.[1] ?? '';
      if (uri && /^Types:.*\bdeb\b/im.test(stanza) && /\/debian\/?$/.test(uri) && /\bbookworm\b/.test(suites)) return withProxy(uri);
    }
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian\/?)\s+bookworm\s/m.exec(text);
    if (line) return withProxy(line[1]!);
  }
  throw new Error('no Debian bookworm mirror found in /etc/apt/sources.list(.d): add one, e.g. http://deb.debian.org/debian');
}

function withProxy(mirror: string): { mirror: string; proxy?: string } {
  const env = process.env.http_proxy ?? process.env.HTTP_PROXY;
  if (env) return { mirror, proxy: env };
  // apt's own setting, as `apt-config dump` shows it (Acquire::http::Proxy "…";).
  for (const f of existsSync('/etc/apt/apt.conf.d') ? readdirSync('/etc/apt/apt.conf.d') : []) {
    const m = /Acquire::http::Proxy\s+"([^"]+)"/i.exec(readFileSync(`/etc/apt/apt.conf.d/${f}`, 'utf8'));
    if (m && m[1] !== 'DIRECT' && m[1] !== 'false') return { mirror, proxy: m[1]! };
  }
  return { mirror };
}

/** `tar -C dir -c . | podman import …` (the rootfs is larger than a pipe into memory should hold). */
async function importDir(podman: Podman, dir: string, changes: string[], tag: string): Promise<void> {
  // An outdated build under the same name goes, rather than lingering as an unnamed image.
  if (await podman.imageExists(tag)) await podman.run(['rmi', tag]);
  const args = ['import', ...changes.flatMap((c) => ['--change', c]), '-', tag];
  await new Promise<void>((resolve, reject) => {
    const tar = spawn('tar', ['--xattrs', '-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const imp = spawn(podman.bin, args, { stdio: ['pipe', 'pipe', 'pipe'], env: podman.env });
    let err = '';
    tar.stderr.on('data', (d: Buffer) => (err += d.toString()));
    imp.stderr.on('data', (d: Buffer) => (err += d.toString()));
    tar.stdout.pipe(imp.stdin);
    imp.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`podman import ${tag} exited ${code}: ${err.slice(-2000)}`))));
    imp.once('error', reject);
    tar.once('error', reject);
  });
}

export interface BaseImage {
  name: string;
  built: boolean;
  seconds: number;
}

/** node:<v>-bookworm-slim from debootstrap + this machine's Node and npm (and CA bundle: test only). */
export async function nodeBase(podman: Podman, name: string, major: string): Promise<BaseImage> {
  const t0 = Date.now();
  const nodeBin = process.execPath;
  if (process.versions.node.split('.')[0] !== major) throw new Error(`the Dockerfile wants Node ${major}; this machine runs Node ${process.versions.node}`);
  // npm sits beside the Node binary's prefix (<prefix>/bin/node, <prefix>/lib/node_modules/npm).
  const npmDir = path.join(path.dirname(path.dirname(nodeBin)), 'lib/node_modules/npm');
  if (!existsSync(path.join(npmDir, 'package.json'))) throw new Error(`npm is not at ${npmDir} (beside ${nodeBin})`);
  const npmVersion = (JSON.parse(readFileSync(path.join(npmDir, 'package.json'), 'utf8')) as { version: string }).version;
  const apt = aptSource();
  const inputs = sha256(JSON.stringify({ recipe: sha256(recipe), suite: 'bookworm', mirror: apt.mirror, node: fileHash(nodeBin), npmVersion, ca: fileHash(CA_BUNDLE) }));
  const tag = qualified(name);
  if ((await podman.imageLabel(tag, INPUTS_LABEL)) === inputs) return { name: tag, built: false, seconds: (Date.now() - t0) / 1000 };

  const debootstrap = requireTool('debootstrap', 'apt-get install debootstrap');
  const work = await mkdtemp(path.join(tmpdir(), 'haven-rootfs-'));
  const root = path.join(work, 'rootfs');
  try {
    const env = { ...process.env, ...(apt.proxy ? { http_proxy: apt.proxy } : {}) };
    const d = await run(debootstrap, ['--variant=minbase', 'bookworm', root, apt.mirror], { timeoutMs: 900_000, env });
    if (d.code !== 0) throw new Error(`debootstrap from ${apt.mirror} failed (exit ${d.code}):\n${(d.stderr + d.stdout).slice(-3000)}`);
    // As slim as the official image: no package caches or lists.
    await rm(path.join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
    await mkdir(path.join(root, 'var/cache/apt/archives/partial'), { recursive: true });
    await rm(path.join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
    await mkdir(path.join(root, 'var/lib/apt/lists/partial'), { recursive: true });
    await cp(nodeBin, path.join(root, 'usr/local/bin/node'));
    await cp(npmDir, path.join(root, 'usr/local/lib/node_modules/npm'), { recursive: true });
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', path.join(root, 'usr/local/bin/npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', path.join(root, 'usr/local/bin/npx'));
    await mkdir(path.join(root, 'usr/local/share/haven-test'), { recursive: true });
    await cp(CA_BUNDLE, path.join(root, 'usr/local/share/haven-test/ca-certificates.crt'));
    await mkdir(path.join(root, 'usr/local/etc'), { recursive: true });
    await writeFile(path.join(root, 'usr/local/etc/npmrc'), 'cafile=/usr/local/share/haven-test/ca-certificates.crt\n');
    await importDir(
      podman,
      root,
      [
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        `ENV NODE_VERSION=${process.versions.node}`,
        'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/haven-test/ca-certificates.crt',
        'ENV npm_config_cafile=/usr/local/share/haven-test/ca-certificates.crt',
        `LABEL ${INPUTS_LABEL}=${inputs}`,
        'CMD ["node"]',
      ],
      tag,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { name: tag, built: true, seconds: (Date.now() - t0) / 1000 };
}

/** bluenviron/mediamtx:<version> from the binary the set-up built (scripts/get-mediamtx.sh). */
export async function mediamtxBase(podman: Podman, name: string, version: string): Promise<BaseImage> {
  const t0 = Date.now();
  const bin = mediamtxBin();
  const built = path.basename(path.dirname(bin));
  if (built !== `v${version}`) throw new Error(`the Dockerfile wants MediaMTX ${version}; the set-up built ${built} (${bin}): align MEDIAMTX_VERSION and scripts/get-mediamtx.sh`);
  const inputs = sha256(JSON.stringify({ recipe: sha256(recipe), mediamtx: fileHash(bin) }));
  const tag = qualified(name);
  if ((await podman.imageLabel(tag, INPUTS_LABEL)) === inputs) return { name: tag, built: false, seconds: (Date.now() - t0) / 1000 };
  const work = await mkdtemp(path.join(tmpdir(), 'haven-mtx-image-'));
  try {
    await cp(bin, path.join(work, 'mediamtx'));
    await importDir(podman, work, [`LABEL ${INPUTS_LABEL}=${inputs}`, 'ENTRYPOINT ["/mediamtx"]'], tag);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { name: tag, built: true, seconds: (Date.now() - t0) / 1000 };
}

export const dockerfilePath = path.join(repoRoot, 'examples/docker-app/Dockerfile');
