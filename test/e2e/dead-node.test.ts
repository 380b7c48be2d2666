/**
 * Never to a dead node: a private origin (`haven init`, exposure unset) with two entry nodes, node-a in
 * eu-central and node-b in us-east; a viewer placed in eu-central (the origin's geo overrides, as the
 * other e2e tests place namespace subnets) asks node-b and is sent (302) to node-a. Then node-a's
 * machine dies (every process in its namespace SIGKILLed) and 20 MS-RTSP viewers ask node-b within
 * the next 3 s: the count sent to the dead node is printed and must be 0, and every one plays.
 * Real wireguard-go, MediaMTX and ffmpeg; traffic only to this file's namespaces (172.31.0.0/16).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/process.js';
import { repoRoot } from '../helpers/tools.js';
import type { PlayResult } from '../helpers/rtsp-players.js';
import { Topology, type Host } from './topology.js';
import { makeSecretsRedactor, place, type Places } from './viewers.js';

const PREFIX = 'hvdn';
const FPS = 25;
const VIEWERS = 20;
const WITHIN_MS = 3000;
const UA = 'Microsoft-Windows/10.0 UPnP/1.0 (Windows Media Foundation)';

describe('never to a dead node', () => {
  let t: Topology;
  let origin: Host;
  let viewer: Host;
  const nodes = {} as Record<'node-a' | 'node-b', Host>;
  const nodeDirs: Record<string, string> = {};
  let entryUrls: Record<string, string> = {};
  let token = '';
  let redact: (s: string) => string = (s) => s;
  const figures: string[] = [];

  const api = <T>(p: string) => t.fetchJson<T>(origin, `http://127.0.0.1:8880${p}`, { token });

  async function emulate(url: string): Promise<PlayResult> {
    const r = await t.h.exec(viewer.ns, process.execPath, ['--import', 'tsx', 'test/helpers/play-cli.ts', 'ms-rtsp', url, UA], { cwd: repoRoot, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`play-cli failed: ${redact(r.stderr.slice(-1500))}`);
    return JSON.parse(r.stdout) as PlayResult;
  }

  beforeAll(async () => {
    t = await Topology.create(PREFIX);
    origin = await t.host('origin', 10);
    nodes['node-a'] = await t.host('node-a', 11);
    nodes['node-b'] = await t.host('node-b', 12);
    viewer = await t.host('viewer', 1);
  }, 300_000);

  afterAll(async () => {
    for (const line of figures) console.log(line);
    await t?.cleanup();
  }, 60_000);

  it('a viewer near node-a, asking node-b, is sent to node-a while it lives', async () => {
    try {
      const originDir = await t.dir(origin);
      await t.cliOk(origin, originDir, ['init', '--name', 'origin', '--public-host', origin.ip, '--region', 'us-east']);
      await t.editConfig(originDir, (doc) => {
        doc.setIn(['plugins', 'geo'], doc.createNode({ database: 'none', overrides: [{ cidr: viewer.subnet, region: 'eu-central', city: place('viewer') }] satisfies Places }));
      });
      redact = await makeSecretsRedactor(originDir);
      const bundles: Record<string, string> = {};
      for (const [name, region] of [['node-a', 'eu-central'], ['node-b', 'us-east']] as const) {
        const node = await t.addNode(origin, originDir, nodes[name], name, region);
        nodeDirs[name] = node.dir;
        bundles[name] = node.bundle;
      }
      await t.start(origin, originDir);
      token = (await readFile(path.join(originDir, 'state', 'api-token'), 'utf8')).trim();
      const urls = JSON.parse((await t.cliOk(origin, originDir, ['urls', '--json'])).stdout) as { publish: Array<{ rtmp: string }> };
      t.publish(origin, urls.publish[0]!.rtmp, { fps: FPS, seconds: 900 });
      await waitFor('the stream live at the origin', async () => (await api<{ streams: Array<{ ready: boolean }> }>('/api/status')).streams[0]?.ready, 30_000, 250);
      for (const name of ['node-a', 'node-b'] as const) {
        await t.cliOk(nodes[name], nodeDirs[name]!, ['node', 'join', bundles[name]!]);
        await t.start(nodes[name], nodeDirs[name]!);
      }
      await waitFor(
        'both entry nodes healthy at the origin',
        async () => (await api<{ nodes: Array<{ name: string; health: string }> }>('/api/status')).nodes.filter((n) => n.name !== 'origin' && n.health === 'up').length === 2,
        90_000,
        250,
      );
      const json = JSON.parse((await t.cliOk(origin, originDir, ['urls', '--json'])).stdout) as { viewer: Array<{ entry?: string; rtsp: string }> };
      entryUrls = Object.fromEntries(json.viewer.map((v) => [v.entry!, v.rtsp]));
      // node-b follows the origin's state (nodes, places): once it has both, it sends this viewer to node-a.
      const before = await waitFor(
        'node-b sending the viewer to node-a',
        async () => {
          const r = await emulate(entryUrls['node-b']!);
          return r.played && r.playedFrom?.host === nodes['node-a'].ip ? r : undefined;
        },
        60_000,
        1000,
      );
      expect(before.hops.map((h) => h.host)).toEqual([nodes['node-b'].ip, nodes['node-a'].ip]);
    } catch (err) {
      console.log(`\n===== haven logs at the failure =====\n${redact(t?.logs() ?? '')}`);
      throw err;
    }
  }, 400_000);

  it(`node-a dies: of ${VIEWERS} viewers asking node-b in the next ${WITHIN_MS / 1000} s, none is sent to it, and every one plays`, async () => {
    const a = nodes['node-a'];
    // The viewers' process starts first (its start-up is not part of the window); a file starts them.
    const trigger = path.join(t.base, 'viewers-go');
    const run = t.h.exec(viewer.ns, process.execPath, ['--import', 'tsx', 'test/helpers/play-many-cli.ts', entryUrls['node-b']!, UA, String(VIEWERS), String(WITHIN_MS), trigger], {
      cwd: repoRoot,
      timeoutMs: 90_000,
    });
    await new Promise((r) => setTimeout(r, 3000));
    const killedAt = Date.now();
    await t.killHost(a);
    const killMs = Date.now() - killedAt;
    await writeFile(trigger, '');
    const out = await run;
    if (out.code !== 0) throw new Error(`play-many failed: ${redact(out.stderr.slice(-1500))}`);
    const results = JSON.parse(out.stdout) as Array<PlayResult & { at: number }>;
    const toDead = results.filter((r) => r.hops.some((h) => h.host === a.ip));
    const played = results.filter((r) => r.played);
    figures.push(
      `[dead node] node-a killed (${killMs} ms to kill); ${results.length} MS-RTSP viewers asked node-b from +${results[0]?.at ?? 0} to +${results.at(-1)?.at ?? 0} ms after: ` +
        `${toDead.length} redirected to the dead node, ${played.length} played (from ${[...new Set(played.map((r) => r.playedFrom?.host))].join(', ')})`,
    );
    expect(results.length).toBe(VIEWERS);
    expect(results.at(-1)!.at).toBeLessThanOrEqual(WITHIN_MS);
    expect(toDead.length).toBe(0);
    expect(played.length, JSON.stringify(results.filter((r) => !r.played).map((r) => r.error))).toBe(VIEWERS);
  }, 120_000);
});
