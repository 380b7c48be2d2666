/**
 * Rotating the relay password on the origin never strands a node: each node's own credential is
 * derived from it, and the node fetches its new one over the VPN (the origin knows it by its VPN
 * address), then pulls with it. The real `haven` CLI in network namespaces over
 * wireguard-go (test/e2e's Topology), real MediaMTX, ffmpeg and ffprobe.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type Spawned } from '../helpers/process.js';
import { Topology, type HavenProcess, type Host } from '../e2e/topology.js';

const PREFIX = 'hsr';
let t: Topology;
let origin: Host;
let nodeHost: Host;
let viewer: Host;
let originHaven: HavenProcess;
let nodeHaven: HavenProcess;
let publisher: Spawned | undefined;
let nodeDir = '';

const secretsOf = async (dir: string) => JSON.parse(await readFile(path.join(dir, 'state', 'secrets.json'), 'utf8')) as { relayPassword: string; viewerPassword: string };

beforeAll(async () => {
  t = await Topology.create(PREFIX);
  origin = await t.host('origin', 40);
  nodeHost = await t.host('node', 41);
  viewer = await t.host('viewer', 42);
}, 300_000);

afterAll(async () => {
  await publisher?.stop();
  await t?.cleanup();
}, 120_000);

async function playAtNode(): Promise<string> {
  const s = await secretsOf(originHaven.dir);
  const url = `rtsp://viewer:${s.viewerPassword}@${nodeHost.ip}:8554/live`;
  const r = await t.exec(viewer, 'ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_type,codec_name', '-of', 'csv=p=0', url], 45_000);
  return r.stdout.trim();
}

describe('relay password rotation', () => {
  it('a node keeps pulling after the relay password is rotated on the origin, also after it restarts', async () => {
    const odir = await t.dir(origin);
    await t.cliOk(origin, odir, ['init', '--name', 'origin', '--public-host', origin.ip, '--region', 'us-east']);
    nodeDir = await t.dir(nodeHost);
    await t.cliOk(nodeHost, nodeDir, ['init', '--role', 'node', '--name', 'node', '--region', 'eu-central', '--public-host', nodeHost.ip]);
    const share = (await t.cliOk(nodeHost, nodeDir, ['node', 'keygen', '--region', 'eu-central'])).stdout.trim();
    // Added before the origin starts, so it starts with its tunnel up.
    const bundle = (JSON.parse((await t.cliOk(origin, odir, ['node', 'add', share, '--json'])).stdout) as { bundle: string }).bundle;
    originHaven = await t.start(origin, odir);
    const urls = JSON.parse((await t.cliOk(origin, odir, ['urls', '--json'])).stdout) as { publish: Array<{ rtmp: string }> };
    // OBS runs on the streamer's machine: ingest listens on loopback there (`haven urls` names 127.0.0.1).
    publisher = t.h.spawn(origin.ns, 'ffmpeg', ['-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15', '-t', '600', '-f', 'flv', urls.publish[0]!.rtmp]);
    await t.cliOk(nodeHost, nodeDir, ['node', 'join', bundle]);
    nodeHaven = await t.start(nodeHost, nodeDir);
    await waitFor('the node to serve the stream', async () => /h264,video/.test(await playAtNode()), 90_000, 1000);

    // Rotate the relay password on the origin, live.
    const before = (await secretsOf(odir)).relayPassword;
    // The node holds a credential of its own (from its bundle), not the origin's relay password.
    const nodeBefore = (await secretsOf(nodeDir)).relayPassword;
    expect(nodeBefore).not.toBe(before);
    const rotated = await t.cliOk(origin, odir, ['secrets', 'rotate', 'relay-password']);
    expect(rotated.stderr).toMatch(/rotated live/);
    const after = (await secretsOf(odir)).relayPassword;
    expect(after).not.toBe(before);
    // Each node's own credential is derived from it: the node fetches its new one over the VPN (the
    // origin knows it by its VPN address), never the relay password itself.
    const t0 = Date.now();
    await waitFor('the node to adopt its new credential', async () => (await secretsOf(nodeDir)).relayPassword !== nodeBefore, 30_000, 250);
    const nodeAfter = (await secretsOf(nodeDir)).relayPassword;
    console.log(`relay password rotated on the origin: the node had its new credential after ${Date.now() - t0} ms`);
    expect(nodeAfter).not.toBe(after);
    expect(nodeAfter).not.toBe(before);
    expect(/h264,video/.test(await playAtNode())).toBe(true);

    // A restarted node pulls with the new password: nothing stranded.
    await nodeHaven.proc.stop('SIGTERM', 10_000);
    nodeHaven = await t.start(nodeHost, nodeDir);
    await waitFor('the restarted node to serve the stream again', async () => /h264,video/.test(await playAtNode()), 90_000, 1000);
    const status = await t.fetchJson<{ nodes: Array<{ name: string; reportedAgoMs?: number }> }>(origin, 'http://127.0.0.1:8880/api/status');
    expect(status.nodes.find((n) => n.name === 'node')?.reportedAgoMs).toBeLessThan(30_000);
  }, 400_000);
});
