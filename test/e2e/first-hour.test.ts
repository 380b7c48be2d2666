/**
 * A newcomer's first hour, as the README tells it, every part real and nothing edited: the origin
 * is `haven init` + `haven start` (no VPN yet), a friend's node is `haven init --role node` +
 * `haven node keygen`, the origin adds it with `haven node add` while it runs (WireGuard comes up
 * then, live), the node joins with the bundle and starts, and a viewer plays the stream through the
 * node. A repeated `node add` says the node exists and points to `haven node bundle`.
 * Traffic goes only to addresses of the namespaces this file creates (172.31.0.0/16 inside them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJoinBundle, defaultInterfaceName } from '@haven/plugin-wireguard';
import { waitFor, type Spawned } from '../helpers/process.js';
import { Topology, type HavenProcess, type Host, publisherTail, Steps } from './topology.js';
import { makeSecretsRedactor, watch, type Status } from './viewers.js';

interface Scenario {
  title: string;
  prefix: string;
  /** An edit of the origin's haven.yaml after `haven init` (none: the README's flow as is). */
  edit?: (doc: Parameters<Parameters<Topology['editConfig']>[1]>[0]) => void;
  /** What the join bundle must say: VPN subnet and the origin's relay port. */
  subnet: string;
  relayPort: number;
}

const SCENARIOS: Scenario[] = [
  { title: "a newcomer's first hour: a friend joins a Haven made by `haven init`, unedited", prefix: 'hvfh', subnet: '10.77.0.0/24', relayPort: 8654 },
  {
    // One derived source: the subnet and MediaMTX's port are set once; the origin's VPN address, the
    // relay URL, the relay subnets and the report listener follow (nothing else is edited).
    title: 'the same with plugins.wireguard.subnet and plugins.mediamtx.rtspAddress changed: the node still pulls',
    prefix: 'hvds',
    edit: (doc) => {
      doc.setIn(['plugins', 'wireguard'], doc.createNode({ subnet: '10.88.4.0/22' }));
      doc.setIn(['plugins', 'mediamtx'], doc.createNode({ rtspAddress: ':9654' }));
    },
    subnet: '10.88.4.0/22',
    relayPort: 9654,
  },
];

describe.each(SCENARIOS)('$title', ({ prefix: PREFIX, edit, subnet, relayPort }) => {
  let t: Topology;
  let origin: Host;
  let node: Host;
  let viewer: Host;
  let originHaven: HavenProcess;
  let nodeDir = '';
  let share = '';
  let bundle = '';
  /** The origin's own viewer URL, from before it had a node (a public origin names itself). */
  let originUrl = '';
  let publisher: Spawned | undefined;
  let redact: (s: string) => string = (s) => s;

  const steps = new Steps(() => redact(`${t?.logs() ?? ''}\n${publisherTail(publisher)}`));
  const step = steps.run;

  const status = () => t.fetchJson<Status>(origin, 'http://127.0.0.1:8880/api/status');

  beforeAll(async () => {
    t = await Topology.create(PREFIX);
    origin = await t.host('origin', 10);
    node = await t.host('alice', 11);
    viewer = await t.host('viewer', 1);
  }, 300_000);

  afterAll(async () => {
    if (process.env.HAVEN_E2E_LOGS && !steps.failed && t) console.log(redact(t.logs()));
    await t?.cleanup();
  }, 60_000);

  it(`the origin runs from \`haven init\`${edit ? ' and the edit' : ''} with no VPN, and ffmpeg publishes to it`, async () => {
    await step(async () => {
      const dir = await t.dir(origin);
      await t.cliOk(origin, dir, ['init', '--public-host', origin.ip]);
      if (edit) await t.editConfig(dir, edit);
      originHaven = await t.start(origin, dir);
      expect(originHaven.proc.output()).toContain('WireGuard ready: the tunnel comes up with the first `haven node add`');
      expect((await t.exec(origin, 'ip', ['-br', 'link', 'show', 'type', 'wireguard'])).stdout.trim()).toBe('');
      redact = await makeSecretsRedactor(dir);
      const urls = JSON.parse((await t.cliOk(origin, dir, ['urls', '--json'])).stdout) as { publish: Array<{ rtmp: string }>; viewer: Array<{ rtsp: string }> };
      // No node yet, `exposure` unset: public, so the viewer URL names this machine.
      originUrl = urls.viewer[0]!.rtsp;
      expect(new URL(originUrl).host).toBe(`${origin.ip}:8554`);
      // OBS runs on the streamer's machine: ingest listens on loopback there (`haven urls` names 127.0.0.1).
      publisher = t.h.spawn(origin.ns, 'ffmpeg', [
        '-nostdin', '-loglevel', 'error', '-re',
        '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25',
        '-t', '600', '-f', 'flv', urls.publish[0]!.rtmp,
      ]);
      await waitFor('the stream to be live at the origin', async () => (await status()).streams[0]?.ready, 30_000, 250);
    });
  });

  it('the friend makes a node and a share code; the running origin adds it live and prints its bundle', async () => {
    await step(async () => {
      nodeDir = await t.dir(node);
      await t.cliOk(node, nodeDir, ['init', '--role', 'node', '--name', 'alice', '--region', 'eu-central', '--public-host', node.ip]);
      share = (await t.cliOk(node, nodeDir, ['node', 'keygen', '--region', 'eu-central'])).stdout.trim();
      expect(share).toMatch(/^havn1-/);

      const added = await t.cliOk(origin, originHaven.dir, ['node', 'add', share]);
      expect(added.stderr).toMatch(/node "alice" added live/);
      expect(added.stderr).toMatch(/This join bundle contains passwords/);
      // The first node makes the origin private (`exposure` unset); its gateway stays public until the next start.
      expect(added.stderr).toMatch(/this origin is now private \(exposure unset and the Haven has 1 node\)/);
      expect(added.stderr).toMatch(/its gateway still listens on the public address until the next `haven start`/);
      bundle = added.stdout.trim().split('\n').pop()!;
      expect(bundle).toMatch(/^havnjoin1-/);
      // The bundle is the node's credential: print what it holds, never its secrets.
      const b = decodeJoinBundle(bundle);
      console.log(
        `[${PREFIX}] join bundle issued for "${b.node.name}": ${bundle.length} chars; origin ${b.origin.endpoint} (VPN ${b.origin.address}), node ${b.node.address} in ${b.subnet}, ` +
          `relay ${b.relay.url} as "${b.relay.user}", viewer "${b.viewer.user}", streams ${b.streams.join(', ')} (passwords not shown)`,
      );
      expect(b.origin.endpoint).toBe(`${origin.ip}:51820`);
      expect(b.subnet).toBe(subnet);
      expect(b.origin.address).toBe(subnet.replace(/\.\d+\/\d+$/, '.1'));
      expect(b.relay.url).toBe(`rtsp://${b.origin.address}:${relayPort}`);

      // WireGuard came up on the running origin with that node as its peer.
      const wg = defaultInterfaceName(b.origin.publicKey);
      await waitFor('the origin to have its WireGuard interface', async () => (await t.exec(origin, 'wg', ['show', wg, 'peers'])).stdout.trim().length > 0, 10_000, 100);
      const list = JSON.parse((await t.cliOk(origin, originHaven.dir, ['node', 'list', '--json'])).stdout) as { running: boolean; nodes: Array<{ name: string; vpnAddress: string }> };
      expect(list).toMatchObject({ running: true, nodes: [{ name: 'alice', vpnAddress: b.node.address }] });
    });
  });

  it('a repeated node add says the node exists and points to `haven node bundle`, which prints the same bundle', async () => {
    await step(async () => {
      const again = await t.cli(origin, originHaven.dir, ['node', 'add', share]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/node "alice" exists: `haven node bundle alice` prints its join bundle again/);
      const re = await t.cliOk(origin, originHaven.dir, ['node', 'bundle', 'alice']);
      expect(re.stdout.trim().split('\n').pop()).toBe(bundle);
    });
  });

  it('the node joins with the bundle, starts, becomes healthy, and a viewer plays the stream through it', async () => {
    await step(async () => {
      const joined = await t.cliOk(node, nodeDir, ['node', 'join', bundle]);
      expect(joined.stderr).toContain(`this node is ${decodeJoinBundle(bundle).node.address} on the VPN`);
      await t.start(node, nodeDir);
      await waitFor('alice healthy at the origin', async () => (await status()).nodes.find((n) => n.name === 'alice')?.health === 'up', 60_000, 250);

      // The origin is private now: `haven urls` gives the entry (the node), never the origin's address.
      const urls = JSON.parse((await t.cliOk(origin, originHaven.dir, ['urls', '--json'])).stdout) as { viewer: Array<{ rtsp: string; entry?: string }> };
      expect(urls.viewer.map((v) => v.entry)).toEqual(['alice']);
      const url = urls.viewer[0]!.rtsp;
      expect(new URL(url).host).toBe(`${node.ip}:8554`);
      expect(JSON.stringify(urls.viewer)).not.toContain(origin.ip);
      // The node holds no viewer password (none in its bundle): its own `haven urls` says where the URLs are.
      expect((await t.cliOk(node, nodeDir, ['urls'])).stdout).toMatch(/This node holds no viewer password .* the streamer's `haven urls` on the origin/);
      const w = await watch(t, viewer, url, { seconds: 3 });
      expect(w.code, redact(w.stderr.slice(-1500))).toBe(0);
      expect(w.frames).toBeGreaterThan(0);
      expect(w.servedBy).toBe(`${node.ip}:8554`);
      // The node pulled the stream from the origin over the tunnel.
      const key = decodeJoinBundle(bundle).origin.publicKey;
      const transfer = await t.wgTransfer(origin, defaultInterfaceName(key));
      expect([...transfer.values()][0]!.tx).toBeGreaterThan(100_000);
    });
  });

  it('until the next start, the origin URL viewers already hold still plays, and `haven status` says what changes then', async () => {
    await step(async () => {
      const w = await watch(t, viewer, originUrl, { seconds: 2 });
      expect(w.code, redact(w.stderr.slice(-1500))).toBe(0);
      expect(w.frames).toBeGreaterThan(0);
      const text = (await t.cliOk(origin, originHaven.dir, ['status'])).stdout;
      expect(text).toMatch(/exposure: private \(exposure unset and the Haven has 1 node\)/);
      expect(text).toMatch(/note: this origin is private from the next `haven start`/);
      // `haven doctor` asks the running origin too: it does not call it private while its gateway is public.
      const doctor = await t.cli(origin, originHaven.dir, ['doctor', '--json']);
      const findings = (JSON.parse(doctor.stdout) as { findings: Array<{ level: string; what: string }> }).findings;
      expect(findings.filter((f) => /private origin|from the next `haven start`/.test(f.what))).toEqual([
        { level: 'warn', what: expect.stringMatching(/^running origin: this origin is private from the next `haven start`/), check: expect.any(String), fix: expect.any(String) },
      ]);
      console.log(`[${PREFIX}] haven status on the origin after its first node:\n${text.split('\n').filter((l) => /exposure|note/.test(l)).join('\n')}`);
    });
  });
});
