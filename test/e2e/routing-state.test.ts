/**
 * Entry nodes' routing state, over the real VPN: a Haven made by `haven init` (unedited) and a node
 * joined as the README says. The running node polls the origin's routing state over WireGuard from
 * its VPN address; `haven status` on the node says it is current and lists the nodes. When the
 * origin's machine dies, the node's status says the origin is lost and that it sends no viewer to
 * itself (exit code 1). Traffic goes only to addresses of the namespaces this file creates.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/process.js';
import { Topology, type Host, Steps } from './topology.js';
import { makeSecretsRedactor } from './viewers.js';

const PREFIX = 'hvrs';

interface NodeStatus {
  role: string;
  joined: boolean;
  routing?: { running: boolean; haven: string; health: { ok: boolean; reason?: string; message?: string; version?: number }; nodes?: Array<{ name: string; healthy: boolean }> };
}

describe('entry nodes follow the origin\'s routing state over the VPN', () => {
  let t: Topology;
  let origin: Host;
  let node: Host;
  let originDir = '';
  let nodeDir = '';
  let redact: (s: string) => string = (s) => s;

  const steps = new Steps(() => redact(t?.logs() ?? ''));
  const step = steps.run;

  const nodeStatus = async () => {
    const r = await t.cli(node, nodeDir, ['status', '--json']);
    return { code: r.code, s: JSON.parse(r.stdout) as NodeStatus };
  };

  beforeAll(async () => {
    t = await Topology.create(PREFIX);
    origin = await t.host('origin', 10);
    node = await t.host('alice', 11);
  }, 300_000);

  afterAll(async () => {
    await t?.cleanup();
  }, 60_000);

  it('a joined node holds a current state naming itself healthy; `haven status` on the node says so', async () => {
    await step(async () => {
      originDir = await t.dir(origin);
      await t.cliOk(origin, originDir, ['init', '--public-host', origin.ip]);
      await t.start(origin, originDir);
      redact = await makeSecretsRedactor(originDir);
      const urls = JSON.parse((await t.cliOk(origin, originDir, ['urls', '--json'])).stdout) as { publish: Array<{ rtmp: string }> };
      t.publish(origin, urls.publish[0]!.rtmp);

      nodeDir = await t.dir(node);
      await t.cliOk(node, nodeDir, ['init', '--role', 'node', '--name', 'alice', '--region', 'eu-central', '--public-host', node.ip]);
      const share = (await t.cliOk(node, nodeDir, ['node', 'keygen', '--region', 'eu-central'])).stdout.trim();
      const bundle = (await t.cliOk(origin, originDir, ['node', 'add', share])).stdout.trim().split('\n').pop()!;
      await t.cliOk(node, nodeDir, ['node', 'join', bundle]);
      await t.start(node, nodeDir);

      let last: Awaited<ReturnType<typeof nodeStatus>> | undefined;
      await waitFor(
        'the node to hold a current routing state with itself healthy',
        async () => {
          last = await nodeStatus();
          return last.code === 0 && !!last.s.routing?.health.ok && !!last.s.routing.nodes?.some((n) => n.name === 'alice' && n.healthy);
        },
        60_000,
        500,
      );
      const text = (await t.cliOk(node, nodeDir, ['status'])).stdout;
      console.log(`[${PREFIX}] haven status on the node:\n${text.trim()}`);
      expect(text).toMatch(/routing state: current \(version \d+, 1\/1 nodes healthy\)/);
      // The origin is no candidate in the state: viewers are only ever sent to nodes.
      expect(last!.s.routing!.nodes!.map((n) => n.name)).toEqual(['alice']);
      // Nothing password-like is kept in the status file.
      const raw = await readFile(path.join(nodeDir, 'state', 'routing-state.status.json'), 'utf8');
      expect(raw).toContain('"ok":true');
      expect(redact(raw)).toBe(raw);
    });
  }, 240_000);

  it("the origin's machine dies: the node's status says the origin is lost and it sends no viewer to itself", async () => {
    await step(async () => {
      const killedAt = Date.now();
      await t.killHost(origin);
      let last: Awaited<ReturnType<typeof nodeStatus>> | undefined;
      await waitFor('the node to report the origin lost', async () => {
        last = await nodeStatus();
        return last.s.routing?.health.reason === 'origin-lost';
      }, 30_000, 500);
      console.log(`[${PREFIX}] origin killed -> node status says origin-lost after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
      expect(last!.code).toBe(1);
      const text = (await t.cli(node, nodeDir, ['status'])).stdout;
      console.log(`[${PREFIX}] haven status on the node:\n${text.trim()}`);
      expect(text).toMatch(/routing state: origin-lost: the origin has not answered for \d+ s: this entry sends no viewer to itself until it is back/);
    });
  }, 120_000);
});
