/**
 * The Docker app for real, with podman: the image is built from examples/docker-app/Dockerfile on
 * base images assembled here (base-images.ts), then an origin container and a node container run
 * on a podman network of the test's own. The node is added with `haven node add` through
 * `podman exec`, joins over WireGuard (wireguard-go as the image's non-root user, through file
 * capabilities), ffmpeg publishes from the host through the origin's mapped RTMP port and a reader
 * comes in through the mapped RTSP port and lands on the node. The origin container restarts on
 * its volume, and the status page answers through its mapping. Then the compose files themselves
 * run with podman-compose (compose.ts).
 *
 * Addresses: host ports are published on 127.0.0.1 only. Public hosts are the containers' own
 * addresses on the test's network: the origin probes a node at its advertised address from inside
 * its container, where 127.0.0.1 would be the origin's own loopback, so a loopback public host
 * cannot work for a node in a container.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { run, spawnTracked, waitFor, type Spawned } from '../helpers/process.js';
import { isRoot, repoRoot, requireTool } from '../helpers/tools.js';
import { dockerfileBases, dockerfilePath, mediamtxBase, nodeBase } from './base-images.js';
import { runCompose } from './compose.js';
import { HavenContainers, tunDevice, type Started } from './containers.js';
import { Podman } from './podman.js';

interface Status {
  state: string;
  streams: Array<{ name: string; ready: boolean }>;
  nodes: Array<{ name: string; origin: boolean; health: string; viewers: number; region?: string }>;
}
interface Decision {
  node: string;
  mode: string;
  reason: string;
  player?: string;
}
interface Urls {
  publish: Array<{ stream: string; rtmp: string }>;
  viewer: Array<{ stream: string; rtsp: string }>;
}

const id = randomBytes(3).toString('hex');
const prefix = `haven-t${id}`;
const timings: string[] = [];
const seconds = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

describe('the Docker app in containers (podman)', () => {
  let podman: Podman;
  let tun: Awaited<ReturnType<typeof tunDevice>> | undefined;
  let hc: HavenContainers;
  let image = '';
  let subnet = '';
  let originIp = '';
  let nodeIp = '';
  let origin: Started;
  let node: Started;
  let publisher: Spawned | undefined;
  let secretsBefore = '';
  let imagesBefore: Set<string> | undefined;
  const t0 = Date.now();

  const api = (path: string) => `http://127.0.0.1:${origin.ports[8880]}${path}`;
  const status = async () => (await (await fetch(api('/api/status'), { signal: AbortSignal.timeout(5000) })).json()) as Status;
  const nodeRow = async (name: string) => (await status()).nodes.find((n) => n.name === name);
  const haven = async (name: string, args: string[]) => {
    const r = await hc.exec(name, args);
    if (r.code !== 0) throw new Error(`haven ${args[0]} in ${name} exited ${r.code}: ${r.stderr.slice(-2000)}`);
    return r.stdout;
  };

  beforeAll(async () => {
    if (!isRoot()) throw new Error('the Docker test builds base images with debootstrap and runs rootful podman: run it as root (as CI does)');
    requireTool('ffmpeg', 'apt-get install ffmpeg');
    requireTool('ffprobe', 'apt-get install ffmpeg');
    podman = new Podman();
    tun = await tunDevice();
    if (tun.note) console.log(`[docker] ${tun.note}`);

    const bases = dockerfileBases(readFileSync(dockerfilePath, 'utf8'));
    let t = Date.now();
    const b1 = await nodeBase(podman, bases.node, bases.nodeMajor);
    const b2 = await mediamtxBase(podman, bases.mediamtx, bases.mediamtxVersion);
    timings.push(`base images: ${seconds(t)} (${[b1, b2].map((b) => `${b.name} ${b.built ? `built in ${b.seconds.toFixed(1)} s` : 'cached'}`).join(', ')})`);

    t = Date.now();
    image = `localhost/${prefix}-app:test`;
    imagesBefore = new Set(await podman.ids('image'));
    podman.made.tags.add(image);
    await podman.ok(['build', '--pull=never', '--network', 'host', '--format', 'docker', '-f', dockerfilePath, '-t', image, repoRoot], 900_000);
    const size = Number((await podman.ok(['image', 'inspect', '--format', '{{.Size}}', image])).trim());
    timings.push(`app image build: ${seconds(t)}; image size ${(size / 1e6).toFixed(0)} MB`);
    console.log(`[docker] app image ${image}: ${(size / 1e6).toFixed(0)} MB`);

    const net = `${prefix}-net`;
    podman.made.networks.add(net);
    await podman.ok(['network', 'create', net]);
    subnet = (await podman.ok(['network', 'inspect', '--format', '{{range .Subnets}}{{.Subnet}}{{end}}', net])).trim();
    const base = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(subnet)?.[1];
    if (!base) throw new Error(`unexpected network subnet "${subnet}"`);
    [originIp, nodeIp] = [`${base}.10`, `${base}.20`];
    hc = new HavenContainers(podman, image, prefix, net, tun.path);
  }, 1_800_000);

  afterAll(async () => {
    // The tun node's and containers.conf's folders go whatever fails on the way (after the last podman call).
    try {
      await publisher?.stop();
      // Every image made since the base images (the app and its build layers), newest first.
      if (imagesBefore) for (const i of await podman.ids('image')) if (!imagesBefore.has(i)) podman.made.images.add(i);
      const problems = podman ? await podman.cleanup() : [];
      timings.push(`whole test: ${seconds(t0)}`);
      for (const line of timings) console.log(`[docker] ${line}`);
      if (podman) {
        const tags = (await podman.ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n');
        const left = [...(await podman.ids('container')), ...(await podman.ids('volume')), ...(await podman.ids('network')), ...tags].filter((n) => n.includes(prefix) || n.includes(`haven-c${id}`));
        expect(left, 'containers, volumes, networks or image tags the test made are still there').toEqual([]);
      }
      expect(problems).toEqual([]);
    } finally {
      tun?.remove();
      podman?.dispose();
    }
  }, 300_000);

  it('the image runs as a non-root user, NET_ADMIN sits on the real binaries, and no test tooling ships', async () => {
    const r = await podman.ok([
      'run', '--rm', '--health-interval', 'disable', '--entrypoint', 'sh', image, '-c',
      'id -u; for t in wg wireguard-go ip; do getcap "$(readlink -f "$(command -v $t)")"; done; ls /app/node_modules/.pnpm',
    ]);
    const [uid, ...rest] = r.trim().split('\n');
    expect(uid).toBe('10001');
    const caps = rest.filter((l) => l.includes('cap_'));
    expect(caps).toEqual(['/usr/bin/wg cap_net_admin=ep', '/usr/bin/wireguard-go cap_net_admin=ep', '/usr/bin/ip cap_net_admin=ep']);
    const packages = rest.filter((l) => !l.includes('cap_'));
    expect(packages.some((p) => p.startsWith('@haven+core@'))).toBe(true);
    expect(packages.filter((p) => /^(vitest|@vitest\+|vite@|esbuild|tsx|tsup|typescript|rolldown)/.test(p))).toEqual([]);
  }, 300_000);

  it('an origin from `haven init` starts in its container; the control API and status page answer through the loopback mapping', async () => {
    const init = await hc.once('origin', { HAVEN_PUBLIC_HOST: originIp }, ['init', '--region', 'us-east', '--exposure', 'public']);
    expect(init.code, init.stderr).toBe(0);
    // One edit: the test network's viewers are placed in eu-central (a LAN has no GeoIP place).
    const mount = (await podman.ok(['volume', 'inspect', '--format', '{{.Mountpoint}}', hc.volume('origin')])).trim();
    const file = `${mount}/haven.yaml`;
    const doc = parseDocument(await readFile(file, 'utf8'));
    doc.setIn(['plugins', 'geo'], doc.createNode({ overrides: [{ cidr: subnet, region: 'eu-central', city: 'test-lan' }] }));
    doc.set('health', doc.createNode({ intervalMs: 1000, timeoutMs: 2000, failuresToDown: 2, successesToUp: 2 }));
    await writeFile(file, doc.toString());

    const t = Date.now();
    origin = await hc.start('origin', { ip: originIp, env: { HAVEN_PUBLIC_HOST: originIp }, publish: [8554, 1935, 8880] });
    await waitFor('the origin to answer on its mapped control API port', async () => (await status()).state === 'running', 90_000, 500).catch(async (err) => {
      throw new Error(`${String(err)}\n${(await hc.logs(origin.name)).slice(-4000)}`);
    });
    timings.push(`origin container ready: ${seconds(t)}`);
    const logs = await hc.logs(origin.name);
    // A Haven from `haven init` has no node yet: the tunnel comes up with the first `haven node add`.
    expect(logs).toContain('WireGuard ready: the tunnel comes up with the first `haven node add`');
    expect(logs).toContain('control API and status page on http://127.0.0.1:8880');

    const page = await fetch(api('/'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<html/i);
    // Changes need the token, also through the mapping.
    const denied = await fetch(api('/api/secrets/rotate'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"stream-key"}' });
    expect(denied.status).toBe(401);
  }, 300_000);

  /** ffmpeg on this machine publishing through the origin's mapped RTMP port; resolves when live. */
  async function publish(): Promise<void> {
    const urls = JSON.parse(secretsBefore) as Urls;
    // The URLs name the public host; from this machine the same paths go through the mapped ports.
    const rtmp = new URL(urls.publish[0]!.rtmp);
    expect(rtmp.hostname).toBe(originIp);
    rtmp.host = `127.0.0.1:${origin.ports[1935]}`;
    publisher = spawnTracked('ffmpeg', [
      '-nostdin', '-loglevel', 'error', '-re',
      '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25',
      '-t', '900', '-f', 'flv', rtmp.href,
    ]);
    await waitFor('the stream to be live at the origin', async () => (await status()).streams[0]?.ready, 60_000, 500).catch((err) => {
      throw new Error(`${String(err)}; ffmpeg: ${publisher!.output().slice(-1000).replaceAll(rtmp.href, '<rtmp url>')}`);
    });
  }

  it('ffmpeg publishes from this machine through the mapped RTMP port', async () => {
    secretsBefore = JSON.stringify(JSON.parse(await haven(origin.name, ['urls', '--json'])) as Urls);
    await publish();
  }, 300_000);

  it('a node joins: keygen, `haven node add` through podman exec, join with the bundle, start; WireGuard comes up as the non-root user', async () => {
    const t = Date.now();
    const keygen = await hc.once('node', { HAVEN_PUBLIC_HOST: nodeIp }, ['node', 'keygen', '--region', 'eu-central', '--name', 'friend']);
    expect(keygen.code, keygen.stderr).toBe(0);
    const share = /^havn1-\S+$/m.exec(keygen.stdout)?.[0] ?? '';
    expect(share, keygen.stdout).not.toBe('');
    const added = JSON.parse(await haven(origin.name, ['node', 'add', share, '--json'])) as { node: string; vpnAddress: string; bundle: string };
    expect(added.node).toBe('friend');
    const join = await hc.once('node', {}, ['node', 'join', added.bundle]);
    expect(join.code, join.stderr).toBe(0);
    node = await hc.start('node', { ip: nodeIp, env: {}, publish: [] });
    await waitFor('the node to be up at the origin', async () => (await nodeRow('friend'))?.health === 'up', 120_000, 500).catch(async (err) => {
      throw new Error(`${String(err)}\n--- node\n${(await hc.logs(node.name)).slice(-3000)}\n--- origin\n${(await hc.logs(origin.name)).slice(-3000)}`);
    });
    timings.push(`node add → node up: ${seconds(t)}`);
    expect(await hc.logs(node.name)).toContain('WireGuard tunnel up');
    // The origin brought its own tunnel up at the live `node add`, as the non-root user too.
    expect((await podman.ok(['exec', origin.name, 'wg', 'show', 'interfaces'])).trim()).not.toBe('');
    // The tunnel really carries traffic: wg shows a handshake with the origin, run as the image's user.
    const wg = await podman.ok(['exec', node.name, 'sh', '-c', 'id -u; wg show all latest-handshakes']);
    const [uid, hs] = wg.trim().split('\n');
    expect(uid).toBe('10001');
    expect(Number(hs!.trim().split(/\s+/).pop())).toBeGreaterThan(0);
  }, 300_000);

  it('a reader through the mapped RTSP port lands on the node', async () => {
    const urls = JSON.parse(secretsBefore) as Urls;
    const rtsp = new URL(urls.viewer[0]!.rtsp);
    rtsp.host = `127.0.0.1:${origin.ports[8554]}`;
    // ffprobe follows the gateway's redirect: the URL it ends up on is the node's public address.
    const probe = await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name:format=filename', '-of', 'json', rtsp.href], { timeoutMs: 60_000 });
    expect(probe.code, probe.stderr.replaceAll(rtsp.password, '<password>')).toBe(0);
    const out = JSON.parse(probe.stdout) as { streams: Array<{ codec_name: string }>; format: { filename: string } };
    expect(out.streams.map((s) => s.codec_name)).toEqual(['h264']);
    expect(new URL(out.format.filename).host).toBe(`${nodeIp}:8554`);
    const decisions = (await (await fetch(api('/api/decisions'))).json()) as { decisions: Decision[] };
    expect(decisions.decisions[0]).toMatchObject({ node: 'friend', mode: 'redirect' });

    // A lasting reader shows up in the node's reports to the origin.
    const reader = spawnTracked('ffmpeg', ['-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', rtsp.href, '-t', '90', '-f', 'null', '-']);
    try {
      await waitFor('the node to report the reader', async () => ((await nodeRow('friend'))?.viewers ?? 0) >= 1, 60_000, 500);
    } finally {
      await reader.stop();
    }
  }, 300_000);

  it('the origin container restarts on its volume: same secrets, the node still there and back up', async () => {
    const t = Date.now();
    await publisher?.stop();
    await podman.ok(['restart', '-t', '10', origin.name], 120_000);
    // The mapping can change host ports across a restart: read them again.
    origin = { name: origin.name, ports: await hc.ports(origin.name, [8554, 1935, 8880]) };
    await waitFor('the origin to answer again', async () => (await status()).state === 'running', 90_000, 500);
    const urls = JSON.parse(await haven(origin.name, ['urls', '--json'])) as Urls;
    expect(JSON.stringify(urls) === secretsBefore, 'the stream key and viewer password survive the restart').toBe(true);
    await publish();
    await waitFor('the node to be up again after the restart', async () => (await nodeRow('friend'))?.health === 'up', 120_000, 500);
    timings.push(`origin restart → node up again: ${seconds(t)}`);
    const page = await fetch(api('/'));
    expect(page.status).toBe(200);
  }, 300_000);

  it('the compose files run as written with podman-compose', async () => {
    await publisher?.stop();
    publisher = undefined;
    const t = Date.now();
    const steps = await runCompose({ podman, image, id, tun: tun!.path });
    timings.push(`compose part: ${seconds(t)} (${steps.join(', ')})`);
  }, 300_000);
});
