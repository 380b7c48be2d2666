/**
 * HTTPS without a domain, in the full app: the `haven` CLI (a private origin and two entry nodes) in
 * network namespaces over real WireGuard, real MediaMTX and ffmpeg, and Pebble (Let's Encrypt's ACME
 * test server, test/tls/pebble.ts) in its own namespace on the same test internet. Every config comes
 * from `haven init`; the edits are the nodes' `plugins.mediamtx.tls` (what this file is about: acme
 * against Pebble) and the origin's geo overrides that place the viewers (as test/e2e/haven.test.ts does).
 * Each node gets a certificate for its IP address from Pebble (real http-01 on its port 80); `haven
 * status`/`doctor` on the node show it; the origin's routing state carries each node's HTTPS URL on its
 * own public host; `haven urls` on the origin gives each entry's Quest URL. A reader trusting only
 * Pebble's issuing root opens one entry's Quest URL, is sent (302) to the other node (nearer to it) and
 * decodes frames there.
 * Traffic goes only to addresses of the namespaces this file creates (172.31.0.0/16, the VPN inside them).
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type Spawned } from '../helpers/process.js';
import { requireTool } from '../helpers/tools.js';
import { startPebble, type Pebble } from '../tls/pebble.js';
import { Topology, type Host, publisherTail, Steps } from './topology.js';
import { makeSecretsRedactor, place, type Places } from './viewers.js';

const PREFIX = 'hvhs';
const FPS = 25;
const NODES = { 'node-a': { index: 11, region: 'eu-central' }, 'node-b': { index: 12, region: 'ap-northeast' } } as const;
type NodeName = keyof typeof NODES;
/** Each viewer is placed (origin geo overrides) in the region of the node that is NOT its entry. */
const VIEWERS = { 'viewer-a': { index: 1, region: 'ap-northeast', entry: 'node-a', nearest: 'node-b' }, 'viewer-b': { index: 2, region: 'eu-central', entry: 'node-b', nearest: 'node-a' } } as const;
type ViewerName = keyof typeof VIEWERS;

interface NodeStatusJson {
  role: string;
  routing?: { health: { ok: boolean } };
  tls?: { mode: string; state: string; ip: string; certificate?: { serial: string; notAfter: string; issuer: string; selfSigned: boolean }; renewAt?: string; error?: string };
}

interface RoutingStateJson {
  version: number;
  nodes: Array<{ name: string; healthy: boolean; httpsUrl?: string; rtspUrl: string }>;
  places?: Array<{ cidr: string }>;
}

describe('HTTPS in the full app: `haven start` nodes with tls: acme against Pebble, Quest URLs from a private origin', () => {
  let t: Topology;
  let ca: Host;
  let origin: Host;
  let originDir = '';
  let pebble: Pebble;
  const nodes = {} as Record<NodeName, Host>;
  const nodeDirs = {} as Record<NodeName, string>;
  const viewers = {} as Record<ViewerName, Host>;
  let quest: Partial<Record<NodeName, string>> = {};
  let redact: (s: string) => string = (s) => s;
  let publisher: Spawned | undefined;
  const figures: string[] = [];

  const steps = new Steps(() => redact(`${t?.logs() ?? ''}\n${publisherTail(publisher)}\n----- pebble -----\n${pebble?.proc.output().slice(-3000) ?? ''}`));
  const step = steps.run;
  let token = '';
  const api = <T>(p: string) => t.fetchJson<T>(origin, `http://127.0.0.1:8880${p}`, { token });
  const nodeStatus = async (name: NodeName): Promise<{ code: number | null; s: NodeStatusJson }> => {
    const r = await t.cli(nodes[name], nodeDirs[name], ['status', '--json']);
    return { code: r.code, s: JSON.parse(r.stdout || '{}') as NodeStatusJson };
  };
  /** The origin's routing state as an entry gets it: over the VPN, from the node's own address (no token). */
  const routingState = async (from: NodeName): Promise<RoutingStateJson> => {
    const join = JSON.parse(await readFile(path.join(nodeDirs[from], 'state', 'join.json'), 'utf8')) as { reportUrl: string };
    return t.fetchJson<RoutingStateJson>(nodes[from], new URL('/api/routing-state', join.reportUrl).toString());
  };

  beforeAll(async () => {
    requireTool('openssl', 'apt-get install -y openssl');
    requireTool('curl', 'apt-get install -y curl');
    t = await Topology.create(PREFIX);
    origin = await t.host('origin', 10);
    for (const [name, n] of Object.entries(NODES) as Array<[NodeName, (typeof NODES)[NodeName]]>) nodes[name] = await t.host(name, n.index);
    for (const [name, v] of Object.entries(VIEWERS) as Array<[ViewerName, (typeof VIEWERS)[ViewerName]]>) viewers[name] = await t.host(name, v.index);
    // The CA on the same test internet: Pebble's VA reaches each node's port 80 as Let's Encrypt would.
    ca = await t.host('ca', 20);
    const pebbleDir = path.join(t.base, 'pebble');
    await mkdir(pebbleDir, { recursive: true });
    pebble = await startPebble(t.h, ca.ns, ca.ip, pebbleDir);
  }, 300_000);

  afterAll(async () => {
    for (const line of figures) console.log(line);
    await publisher?.stop('SIGTERM', 5000).catch(() => {});
    await pebble?.proc.stop('SIGTERM', 5000).catch(() => {});
    await t?.cleanup();
  }, 90_000);

  it('a private origin (haven init, exposure unset) publishes; two nodes join live with tls: acme against Pebble and start', async () => {
    await step(async () => {
      originDir = await t.dir(origin);
      await t.cliOk(origin, originDir, ['init', '--name', 'origin', '--public-host', origin.ip, '--region', 'us-east']);
      expect(await readFile(path.join(originDir, 'haven.yaml'), 'utf8')).not.toMatch(/^exposure:/m);
      // Viewers' places (test subnets have no GeoIP answer), as the other e2e tests place them.
      await t.editConfig(originDir, (doc) => {
        doc.setIn(
          ['plugins', 'geo'],
          doc.createNode({
            database: 'none',
            overrides: (Object.entries(VIEWERS) as Array<[ViewerName, (typeof VIEWERS)[ViewerName]]>).map(([name, v]) => ({ cidr: viewers[name].subnet, region: v.region, city: place(name) })) satisfies Places,
          }),
        );
      });
      redact = await makeSecretsRedactor(originDir);
      const bundles = {} as Record<NodeName, string>;
      for (const [name, n] of Object.entries(NODES) as Array<[NodeName, (typeof NODES)[NodeName]]>) {
        const host = nodes[name];
        const dir = await t.dir(host);
        nodeDirs[name] = dir;
        await t.cliOk(host, dir, ['init', '--role', 'node', '--name', name, '--region', n.region, '--public-host', host.ip]);
        const share = (await t.cliOk(host, dir, ['node', 'keygen', '--region', n.region])).stdout.trim();
        const added = await t.cliOk(origin, originDir, ['node', 'add', share, '--json']);
        bundles[name] = (JSON.parse(added.stdout) as { bundle: string }).bundle;
      }
      await t.start(origin, originDir);
      token = (await readFile(path.join(originDir, 'state', 'api-token'), 'utf8')).trim();
      const exposure = (await api<{ exposure?: { mode: string } }>('/api/status')).exposure;
      expect(exposure?.mode).toBe('private');
      const urls = JSON.parse((await t.cliOk(origin, originDir, ['urls', '--json'])).stdout) as { publish: Array<{ rtmp: string }> };
      publisher = t.h.spawn(origin.ns, 'ffmpeg', [
        '-nostdin', '-loglevel', 'error', '-re',
        '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=${FPS}`,
        '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(FPS),
        '-t', '900', '-f', 'flv', urls.publish[0]!.rtmp,
      ]);
      await waitFor('the stream live at the origin', async () => (await api<{ streams: Array<{ ready: boolean }> }>('/api/status')).streams[0]?.ready, 30_000, 250);

      for (const name of Object.keys(NODES) as NodeName[]) {
        await t.cliOk(nodes[name], nodeDirs[name], ['node', 'join', bundles[name]]);
        // The edit this file is about: HTTPS with a certificate for the node's IP from an ACME CA (Pebble).
        await t.editConfig(nodeDirs[name], (doc) => {
          doc.setIn(
            ['plugins', 'mediamtx', 'tls'],
            doc.createNode({ mode: 'acme', directoryUrl: pebble.directoryUrl, directoryCaFile: pebble.directoryCaFile, retryDelayMs: 2_000, issueTimeoutMs: 60_000 }),
          );
        });
        await t.start(nodes[name], nodeDirs[name], 90_000);
      }
      await waitFor(
        'both nodes healthy at the origin',
        async () => (await api<{ nodes: Array<{ name: string; health: string }> }>('/api/status')).nodes.filter((n) => n.name in NODES && n.health === 'up').length === 2,
        90_000,
        500,
      );
    });
  }, 360_000);

  it('each node gets a Pebble-issued certificate for its IP: `haven status --json` and `haven doctor --json` on the node show it; the key files are 0600', async () => {
    await step(async () => {
      for (const name of Object.keys(NODES) as NodeName[]) {
        const host = nodes[name];
        let last: NodeStatusJson | undefined;
        const tls = await waitFor(
          `${name}: a CA certificate in haven status`,
          async () => {
            last = (await nodeStatus(name)).s;
            return last.tls?.state === 'valid' ? last.tls : undefined;
          },
          120_000,
          1000,
        ).catch((err: Error) => {
          throw new Error(`${err.message}; last status: ${JSON.stringify(last?.tls)}`);
        });
        expect(tls.mode).toBe('acme');
        expect(tls.ip).toBe(host.ip);
        expect(tls.certificate?.selfSigned).toBe(false);
        expect(tls.certificate?.issuer).toMatch(/Pebble/i);
        const notAfter = Date.parse(tls.certificate!.notAfter);
        expect(notAfter).toBeGreaterThan(Date.now());
        // Pebble's shortlived profile: 518400 s at most.
        expect(notAfter - Date.now()).toBeLessThanOrEqual(518_400_000);
        expect(Date.parse(tls.renewAt!)).toBeLessThan(notAfter);
        const text = (await t.cliOk(host, nodeDirs[name], ['status'])).stdout;
        expect(text).toContain(`HTTPS (tls: acme) for ${host.ip}: valid, certificate expires ${tls.certificate!.notAfter}`);

        // haven doctor on the node: the challenge responder answers on port 80 and the certificate is Pebble's.
        const doc = await t.cli(host, nodeDirs[name], ['doctor', '--json'], 60_000);
        const findings = (JSON.parse(doc.stdout) as { findings: Array<{ level: string; what: string }> }).findings;
        const https = findings.find((f) => f.what.startsWith('HTTPS: certificate for'));
        expect(https, JSON.stringify(findings)).toBeDefined();
        expect(https!.level).toBe('ok');
        expect(https!.what).toContain(`HTTPS: certificate for ${host.ip} from `);
        expect(https!.what).toMatch(/Pebble/i);
        expect(https!.what).toContain(`expires ${new Date(notAfter).toISOString()}`);
        expect(findings.find((f) => f.what.startsWith('ACME http-01:'))).toMatchObject({ level: 'ok' });

        // The certificate's key and the ACME account key: readable by the owner only.
        for (const file of ['live.pem', 'acme-account.key']) {
          const mode = (await stat(path.join(nodeDirs[name], 'state', 'tls', file))).mode & 0o777;
          expect(mode.toString(8), `${name} state/tls/${file}`).toBe('600');
        }
        figures.push(`[https-haven] ${name}: ${text.trim().split('\n').find((l) => l.startsWith('HTTPS'))}`);
      }
    });
  }, 300_000);

  it("the origin's routing state carries each node's HTTPS URL on the node's own public host", async () => {
    await step(async () => {
      let last: RoutingStateJson | undefined;
      await waitFor(
        'both nodes healthy with an HTTPS URL in the routing state',
        async () => {
          last = await routingState('node-a');
          return last.nodes.length === 2 && last.nodes.every((n) => n.healthy && n.httpsUrl) ? true : undefined;
        },
        90_000,
        1000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last state nodes: ${JSON.stringify(last?.nodes)}`);
      });
      for (const name of Object.keys(NODES) as NodeName[]) {
        const n = last!.nodes.find((x) => x.name === name)!;
        expect(new URL(n.httpsUrl!).hostname).toBe(nodes[name].ip);
        expect(n.httpsUrl).toBe(`https://${nodes[name].ip}:8888`);
        expect(new URL(n.rtspUrl).hostname).toBe(nodes[name].ip);
      }
      // node-b reads the same state; the origin's geo overrides travel with it (entries place viewers with them).
      const fromB = await routingState('node-b');
      expect(fromB.nodes.map((n) => [n.name, n.httpsUrl])).toEqual(last!.nodes.map((n) => [n.name, n.httpsUrl]));
      expect(fromB.places?.map((p) => p.cidr).sort()).toEqual(Object.values(viewers).map((v) => v.subnet).sort());
      figures.push(`[https-haven] routing state v${last!.version}: ${last!.nodes.map((n) => `${n.name} ${n.httpsUrl}`).join(', ')}`);
    });
  }, 120_000);

  it("the origin's `haven urls --json` (private: entry URLs only) gives each entry's Quest HTTPS URL", async () => {
    await step(async () => {
      const json = JSON.parse((await t.cliOk(origin, originDir, ['urls', '--json'])).stdout) as { viewer: Array<{ entry?: string; quest?: string; rtsp: string; hls: string }> };
      expect(json.viewer.map((v) => v.entry).sort()).toEqual(['node-a', 'node-b']);
      const viewerPassword = (JSON.parse(await readFile(path.join(originDir, 'state', 'secrets.json'), 'utf8')) as { viewerPassword: string }).viewerPassword;
      quest = Object.fromEntries(json.viewer.map((v) => [v.entry!, v.quest!]));
      for (const name of Object.keys(NODES) as NodeName[]) {
        expect(redact(quest[name] ?? '')).toBe(`https://viewer:***@${nodes[name].ip}/live/index.m3u8`);
        expect(new URL(quest[name]!).password).toBe(encodeURIComponent(viewerPassword));
        // The running origin knows from the node's reports that it serves a certificate: its HLS port speaks HTTPS.
        expect(redact(json.viewer.find((v) => v.entry === name)!.hls)).toBe(`https://viewer:***@${nodes[name].ip}:8888/live/index.m3u8`);
      }
      // No URL names the origin (it is private).
      expect(JSON.stringify(json)).not.toContain(origin.ip);
      const text = (await t.cliOk(origin, originDir, ['urls'])).stdout;
      expect(redact(text)).toContain(`VRChat (Quest):     https://viewer:***@${nodes['node-a'].ip}/live/index.m3u8`);
    });
  }, 60_000);

  it("a reader trusting only Pebble's root opens an entry's Quest URL, is sent (302) to the other, nearer node's own HTTPS playlist and decodes frames there", async () => {
    await step(async () => {
      for (const [vname, v] of Object.entries(VIEWERS) as Array<[ViewerName, (typeof VIEWERS)[ViewerName]]>) {
        const viewer = viewers[vname];
        const entryUrl = quest[v.entry]!;
        const nearest = nodes[v.nearest];
        // The entry's answer: 302 to the nearer node's HTTPS playlist with a token; the password stays out of it.
        const u = new URL(entryUrl);
        const auth = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
        const plain = `https://${u.host}${u.pathname}`;
        let lastAnswer = '';
        const location = await waitFor(
          `${v.entry}'s HTTPS entry to send ${vname} to ${v.nearest}`,
          async () => {
            const r = await t.exec(viewer, 'curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '--max-time', '10', '--cacert', pebble.rootFile, '-u', auth, plain], 20_000);
            lastAnswer = redact(`${r.code} ${r.stdout} ${r.stderr.slice(-300)}`);
            const [code, loc] = r.stdout.trim().split(' ');
            return code === '302' && loc && new URL(loc).hostname === nearest.ip ? loc : undefined;
          },
          60_000,
          1000,
        ).catch((err: Error) => {
          throw new Error(`${err.message}; last answer: ${lastAnswer}`);
        });
        expect(location).toMatch(new RegExp(`^https://${nearest.ip.replace(/\./g, '\\.')}:8888/live/index\\.m3u8\\?token=v2\\.`));
        expect(redact(location)).toBe(location);

        // ffmpeg given only the Quest URL, trusting only Pebble's issuing root: it follows the 302 and
        // decodes at the nearer node. MediaMTX answers "waiting for the muxer" on the first request of a
        // stream: a player asks again, so this does too (a fresh 302 each time), bounded.
        let last = { code: null as number | null, frames: 0, hosts: [] as string[], stderr: '' };
        const read = await waitFor(
          `${vname} decoding frames through ${v.entry}'s Quest URL`,
          async () => {
            const r = await t.exec(
              viewer,
              'ffmpeg',
              ['-hide_banner', '-nostdin', '-v', 'verbose', '-nostats', '-ca_file', pebble.rootFile, '-tls_verify', '1', '-i', entryUrl, '-t', '3', '-map', '0:v', '-f', 'null', '-progress', 'pipe:1', '-'],
              60_000,
            );
            const frames = Math.max(0, ...[...r.stdout.matchAll(/^frame=(\d+)/gm)].map((m) => Number(m[1])));
            // Every URL ffmpeg opened (the entry's, then the node's playlist and segments).
            const hosts = [...r.stderr.matchAll(/Opening '(https:\/\/[^']+)' for reading/g)].map((m) => new URL(m[1]!).host);
            last = { code: r.code, frames, hosts, stderr: redact(r.stderr.slice(-1500)) };
            return r.code === 0 && frames > 20 ? last : undefined;
          },
          120_000,
          2000,
        ).catch((err: Error) => {
          throw new Error(`${err.message}; last: exit ${last.code}, ${last.frames} frames, opened ${last.hosts.join(' ')}\n${last.stderr}`);
        });
        // Served at the nearer node: after the entry's 302 (ffmpeg logs its input URL at debug level only),
        // every playlist and segment it opened was the nearer node's.
        expect(read.hosts.length).toBeGreaterThan(0);
        expect([...new Set(read.hosts.filter((h) => h !== nodes[v.entry].ip))]).toEqual([`${nearest.ip}:8888`]);
        expect(read.hosts.at(-1)).toBe(`${nearest.ip}:8888`);
        figures.push(`[https-haven] ${vname} (${v.region}) via ${v.entry}'s Quest URL: 302 to ${v.nearest} (${nearest.ip}:8888), ${read.frames} frames decoded in 3 s, trusting only Pebble's root`);
      }
      // The same reader trusting another CA (Pebble's minica signs only Pebble's own listener) refuses the entry.
      const bare = await t.exec(viewers['viewer-a'], 'ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-tls_verify', '1', '-ca_file', pebble.directoryCaFile, '-i', quest['node-a']!, '-t', '1', '-f', 'null', '-'], 30_000);
      expect(bare.code).not.toBe(0);
    });
  }, 360_000);
});
