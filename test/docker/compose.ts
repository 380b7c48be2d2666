// The compose files with podman-compose. Each runs as written, except for what binds the host:
// host ports become free ports on 127.0.0.1 (a test must not take this machine's 8554/1935/… on
// every interface), the tun device's host path is the test's (see containers.ts), and `image` is the
// image the test built from the file's own build section (checked, then dropped, so nothing is
// rebuilt and no `stream-haven:latest` here is touched). Container ports, command, environment,
// capabilities and volumes are the file's own.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort, freeUdpPort, run, spawnTracked, waitFor } from '../helpers/process.js';
import { repoRoot, requireTool } from '../helpers/tools.js';
import type { Podman } from './podman.js';

interface Service {
  image: string;
  build: { context: string; dockerfile: string };
  command: string[];
  cap_add: string[];
  devices: string[];
  environment: Record<string, string>;
  ports: string[];
  volumes: string[];
}
interface ComposeFile {
  name: string;
  services: { haven: Service };
  volumes: Record<string, unknown>;
}

const appDir = path.join(repoRoot, 'examples/docker-app');
/** A host address no test traffic goes to (TEST-NET-1): it only appears in the URLs the app prints. */
const PUBLIC_HOST = '192.0.2.10';

/** The file with its host bindings pointed at test-owned ones; returns the copy and the host port of each container port. */
async function hostSideCopy(file: string, o: { image: string; tun: string; dir: string }): Promise<{ file: string; ports: Record<string, number>; original: ComposeFile }> {
  const original = parse(readFileSync(path.join(appDir, file), 'utf8')) as ComposeFile;
  const copy = structuredClone(original);
  const svc = copy.services.haven;
  const ports: Record<string, number> = {};
  svc.ports = [];
  for (const p of original.services.haven.ports) {
    const m = /^(?:(\d+\.\d+\.\d+\.\d+):)?(\d+):(\d+)\/(tcp|udp)$/.exec(p);
    if (!m) throw new Error(`${file}: unexpected port mapping "${p}"`);
    const host = m[4] === 'tcp' ? await freePort() : await freeUdpPort();
    ports[`${m[3]}/${m[4]}`] = host;
    svc.ports.push(`127.0.0.1:${host}:${m[3]}/${m[4]}`);
  }
  // The build section goes: podman-compose `run` would rebuild the image from it (the context is the
  // repository, which the test built the image from).
  expect(path.resolve(appDir, svc.build.context)).toBe(path.resolve(repoRoot));
  expect(path.resolve(repoRoot, svc.build.dockerfile)).toBe(path.join(appDir, 'Dockerfile'));
  svc.image = o.image;
  delete (svc as Partial<Service>).build;
  svc.devices = svc.devices.map((d) => d.replace(/^\/dev\/net\/tun:/, `${o.tun}:`));
  const out = path.join(o.dir, file);
  await writeFile(out, stringify(copy));
  return { file: out, ports, original };
}

/** Runs both compose files; returns how long each step took. */
export async function runCompose(o: { podman: Podman; image: string; id: string; tun: string }): Promise<string[]> {
  const steps: string[] = [];
  let last = Date.now();
  const step = (what: string) => {
    steps.push(`${what} ${((Date.now() - last) / 1000).toFixed(1)} s`);
    last = Date.now();
  };
  const composeBin = requireTool('podman-compose', 'apt-get install podman-compose');
  const { podman } = o;
  const dir = await mkdtemp(path.join(tmpdir(), 'haven-compose-'));
  const env = (extra: Record<string, string>): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...podman.env, ...extra };
    if (!('HAVEN_PUBLIC_HOST' in extra)) delete e.HAVEN_PUBLIC_HOST;
    return e;
  };
  const compose = (project: string, file: string, args: string[], extra: Record<string, string> = {}, timeoutMs = 180_000) =>
    run(composeBin, ['-p', project, '-f', file, ...args], { env: env(extra), timeoutMs });
  try {
    // --- the origin: docker-compose.yml
    const project = `haven-c${o.id}`;
    const origin = await hostSideCopy('docker-compose.yml', { image: o.image, tun: o.tun, dir });
    const svc = origin.original.services.haven;
    expect(svc.environment.HAVEN_PUBLIC_HOST).toMatch(/^\$\{HAVEN_PUBLIC_HOST:\?.+\}$/);
    expect(svc.ports.find((p) => p.endsWith(':8880/tcp')), 'the status page is published on loopback only').toMatch(/^127\.0\.0\.1:8880:8880\/tcp$/);
    // What podman-compose makes for the project, recorded before it exists so cleanup finds it.
    const container = `${project}_haven_1`;
    podman.made.containers.add(container);
    podman.made.networks.add(`${project}_default`);
    for (const v of Object.keys(origin.original.volumes)) podman.made.volumes.add(`${project}_${v}`);

    const refused = await compose(project, origin.file, ['up', '-d']);
    expect(refused.code, 'compose without HAVEN_PUBLIC_HOST must refuse to start').not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain("set HAVEN_PUBLIC_HOST to this machine's public address");
    expect((await podman.run(['container', 'exists', container])).code).not.toBe(0);

    step('refused without HAVEN_PUBLIC_HOST');
    const up = await compose(project, origin.file, ['up', '-d'], { HAVEN_PUBLIC_HOST: PUBLIC_HOST });
    step('up');
    expect(up.code, up.stderr.slice(-3000)).toBe(0);
    const apiPort = origin.ports['8880/tcp']!;
    const status = async () => (await (await fetch(`http://127.0.0.1:${apiPort}/api/status`, { signal: AbortSignal.timeout(5000) })).json()) as { state: string; streams: Array<{ ready: boolean }> };
    await waitFor('the compose origin to answer on 127.0.0.1 through the mapping', async () => (await status()).state === 'running', 90_000, 500).catch(async (err) => {
      const logs = await podman.run(['logs', container]);
      throw new Error(`${String(err)}\n${(logs.stdout + logs.stderr).slice(-3000)}`);
    });
    step('status answers');
    const page = await fetch(`http://127.0.0.1:${apiPort}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);

    const urlsOut = await compose(project, origin.file, ['exec', '-T', 'haven', 'haven', 'urls', '--json'], { HAVEN_PUBLIC_HOST: PUBLIC_HOST });
    expect(urlsOut.code, urlsOut.stderr).toBe(0);
    const urls = JSON.parse(urlsOut.stdout.slice(urlsOut.stdout.indexOf('{'), urlsOut.stdout.lastIndexOf('}') + 1)) as { publish: Array<{ rtmp: string; srt: string }>; viewer: Array<{ rtsp: string }> };
    const rtmp = new URL(urls.publish[0]!.rtmp);
    expect(rtmp.hostname).toBe(PUBLIC_HOST);
    rtmp.host = `127.0.0.1:${origin.ports['1935/tcp']}`;
    const rtsp = new URL(urls.viewer[0]!.rtsp);
    rtsp.host = `127.0.0.1:${origin.ports['8554/tcp']}`;
    const publisher = spawnTracked('ffmpeg', [
      '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-t', '300', '-f', 'flv', rtmp.href,
    ]);
    try {
      await waitFor('RTMP through the mapped ingest port to go live', async () => (await status()).streams[0]?.ready, 60_000, 500);
      const probe = await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'json', rtsp.href], { timeoutMs: 60_000 });
      expect(probe.code, probe.stderr.replaceAll(rtsp.password, '<password>')).toBe(0);
      expect((JSON.parse(probe.stdout) as { streams: Array<{ codec_name: string }> }).streams.map((s) => s.codec_name)).toEqual(['h264']);
    } finally {
      await publisher.stop();
    }
    step('RTMP publish and RTSP read');
    // SRT ingest (UDP) through its mapping too, once the RTMP publisher has gone.
    await waitFor('the stream to go off air', async () => (await status()).streams[0]?.ready === false, 30_000, 250);
    const srt = new URL(urls.publish[0]!.srt);
    srt.host = `127.0.0.1:${origin.ports['8890/udp']}`;
    const srtPublisher = spawnTracked('ffmpeg', [
      '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-t', '300', '-f', 'mpegts', srt.href,
    ]);
    try {
      await waitFor('SRT through the mapped ingest port to go live', async () => (await status()).streams[0]?.ready, 60_000, 500).catch((err) => {
        throw new Error(`${String(err)}; ffmpeg: ${srtPublisher.output().slice(-1000).replaceAll(srt.href, '<srt url>')}`);
      });
    } finally {
      await srtPublisher.stop();
    }
    step('SRT publish');
    const down = await compose(project, origin.file, ['down', '-v'], { HAVEN_PUBLIC_HOST: PUBLIC_HOST });
    step('down');
    expect(down.code, down.stderr.slice(-2000)).toBe(0);

    // --- the node: docker-compose.node.yml, its documented first step (keygen in a one-off container)
    const nodeProject = `haven-c${o.id}n`;
    const node = await hostSideCopy('docker-compose.node.yml', { image: o.image, tun: o.tun, dir });
    expect(node.original.services.haven.environment.HAVEN_PUBLIC_HOST).toMatch(/^\$\{HAVEN_PUBLIC_HOST:\?.+\}$/);
    podman.made.networks.add(`${nodeProject}_default`);
    for (const v of Object.keys(node.original.volumes)) podman.made.volumes.add(`${nodeProject}_${v}`);
    const keygenArgs = ['run', '--rm', '-T', 'haven', 'node', 'keygen', '--region', 'eu-central'];
    const noHost = await compose(nodeProject, node.file, keygenArgs);
    expect(noHost.code).not.toBe(0);
    expect(noHost.stdout + noHost.stderr).toContain("set HAVEN_PUBLIC_HOST to this machine's public address");
    const keygen = await compose(nodeProject, node.file, keygenArgs, { HAVEN_PUBLIC_HOST: '192.0.2.20' });
    expect(keygen.code, keygen.stderr.slice(-2000)).toBe(0);
    expect(keygen.stdout).toMatch(/^havn1-\S{40,}$/m);
    step('node keygen');
    const nodeDown = await compose(nodeProject, node.file, ['down', '-v'], { HAVEN_PUBLIC_HOST: '192.0.2.20' });
    expect(nodeDown.code, nodeDown.stderr.slice(-2000)).toBe(0);
    step('node down');
    return steps;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
