/**
 * A node that leaves takes nothing with it: each node signs viewer tokens with its own key and reports
 * and pulls with its own credential, and `haven node remove` revokes all three at once. The real
 * `haven` CLI in network namespaces over wireguard-go (Topology): an origin from `haven init`
 * (unedited: private once it has nodes) and three nodes added, joined and started as the README says.
 *
 * What node-a held is taken from its state folder, as someone holding its machine would: its token key
 * (`state/token-key.pem`) and its own credential (`state/secrets.json`). Before the removal a token it
 * signs opens node-b and node-c, and its credential reports and pulls; after `haven node remove node-a`
 * a new token it signs is refused by node-b and node-c, its report bearer by the origin, its pull
 * password by the origin's relay door and by node-b as a relay parent, while node-b's own token and
 * credential keep working. Traffic goes only to addresses of the namespaces this file creates.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViewerTokenKey } from '@haven/core';
import { signViewerToken, TOKEN_PARAM } from '@haven/gateway';
import { waitFor } from '../helpers/process.js';
import { Steps, Topology, type Host } from './topology.js';
import { makeSecretsRedactor } from './viewers.js';

const PREFIX = 'hvrm';
const NODES = ['node-a', 'node-b', 'node-c'] as const;
type NodeName = (typeof NODES)[number];

interface Joined {
  reportUrl: string;
  relay: { host: string; port: number };
  node: { name: string; address: string };
}

let t: Topology;
let origin: Host;
let viewer: Host;
const hosts = {} as Record<NodeName, Host>;
const dirs = {} as Record<NodeName, string>;
let originDir = '';
let redact: (s: string) => string = (s) => s;
const steps = new Steps(() => redact(t?.logs() ?? ''));

const secretsOf = async (dir: string) => JSON.parse(await readFile(path.join(dir, 'state', 'secrets.json'), 'utf8')) as { relayPassword: string };
const joinOf = async (dir: string) => JSON.parse(await readFile(path.join(dir, 'state', 'join.json'), 'utf8')) as Joined;
const tokenKeyOf = async (dir: string) => new ViewerTokenKey(createPrivateKey(await readFile(path.join(dir, 'state', 'token-key.pem'), 'utf8')));

/** ffprobe from `from`'s namespace: whether it read an H.264 stream, and why not. */
async function opens(from: Host, url: string): Promise<{ ok: boolean; why: string }> {
  const r = await t.exec(from, 'ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', url], 30_000);
  return { ok: r.code === 0 && r.stdout.includes('h264'), why: redact(r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`) };
}

/** A token signed with `key` for a viewer at `viewer`'s address, reading `live` at `node`'s public gateway. */
function tokenUrl(key: ViewerTokenKey, node: NodeName): string {
  const token = signViewerToken(key, { ip: viewer.ip, stream: 'live', node }, 120);
  return `rtsp://${hosts[node].ip}:8554/live?${TOKEN_PARAM}=${token}`;
}

/** `POST /api/node-report` for `node` with `bearer`, from the origin's own namespace (not a node's VPN address): the HTTP status. */
async function report(reportUrl: string, node: string, bearer: string): Promise<number> {
  const script = `
    const [url, node, bearer] = process.argv.slice(1);
    const res = await fetch(url + '/api/node-report', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + bearer },
      body: JSON.stringify({ node, streams: [{ name: 'live', ready: true, readers: 0, bytesIn: 0, bytesOut: 0 }] }), signal: AbortSignal.timeout(10000) });
    await res.arrayBuffer();
    process.stdout.write(String(res.status));`;
  const r = await t.exec(origin, process.execPath, ['--input-type=module', '-e', script, reportUrl, node, bearer]);
  return Number(r.stdout.trim());
}

beforeAll(async () => {
  t = await Topology.create(PREFIX);
  origin = await t.host('origin', 60);
  for (const [i, n] of NODES.entries()) hosts[n] = await t.host(n, 61 + i);
  viewer = await t.host('viewer', 65);
}, 300_000);

afterAll(async () => {
  await t?.cleanup();
}, 120_000);

describe('haven node remove revokes what the node held', () => {
  let aKey: ViewerTokenKey;
  let bKey: ViewerTokenKey;
  let aCred = '';
  let bCred = '';
  let aJoin: Joined;
  let bJoin: Joined;
  const pullUrl = (cred: string, at: { host: string; port: number }) => `rtsp://relay:${cred}@${at.host}:${at.port}/live`;

  it('three nodes joined as the README says: each holds its own token key and credential, and what node-a signs opens node-b and node-c', async () => {
    await steps.run(async () => {
      originDir = await t.dir(origin);
      await t.cliOk(origin, originDir, ['init', '--name', 'origin', '--public-host', origin.ip, '--region', 'us-east']);
      const bundles = {} as Record<NodeName, string>;
      for (const n of NODES) {
        const node = await t.addNode(origin, originDir, hosts[n], n, 'eu-central');
        dirs[n] = node.dir;
        bundles[n] = node.bundle;
      }
      await t.start(origin, originDir);
      redact = await makeSecretsRedactor(originDir);
      const urls = JSON.parse((await t.cliOk(origin, originDir, ['urls', '--json'])).stdout) as { publish: Array<{ rtmp: string }> };
      t.publish(origin, urls.publish[0]!.rtmp, { fps: 15, seconds: 900 });
      for (const n of NODES) await t.cliOk(hosts[n], dirs[n], ['node', 'join', bundles[n]]);
      await Promise.all(NODES.map((n) => t.start(hosts[n], dirs[n])));

      // Each node holds a credential of its own, never the origin's relay password.
      const originRelay = (await secretsOf(originDir)).relayPassword;
      aCred = (await secretsOf(dirs['node-a'])).relayPassword;
      bCred = (await secretsOf(dirs['node-b'])).relayPassword;
      expect(aCred).not.toBe(originRelay);
      expect(bCred).not.toBe(originRelay);
      expect(aCred).not.toBe(bCred);
      aKey = await tokenKeyOf(dirs['node-a']);
      bKey = await tokenKeyOf(dirs['node-b']);
      expect(aKey.publicKey).not.toBe(bKey.publicKey);
      aJoin = await joinOf(dirs['node-a']);
      bJoin = await joinOf(dirs['node-b']);

      // node-a's key reaches node-b and node-c through its reports and the routing state.
      const t0 = Date.now();
      for (const n of ['node-b', 'node-c'] as const) {
        await waitFor(`a token signed by node-a to open ${n}`, async () => (await opens(viewer, tokenUrl(aKey, n))).ok, 120_000, 1000);
      }
      console.log(`[${PREFIX}] node-a's tokens accepted by node-b and node-c ${((Date.now() - t0) / 1000).toFixed(1)} s after the nodes started`);
      // A key no entry of the Haven holds opens nothing.
      const stranger = await opens(viewer, tokenUrl(new ViewerTokenKey(), 'node-b'));
      expect(stranger.ok).toBe(false);
      expect(stranger.why).toMatch(/401/);

      // node-a's credential: its reports and its pulls (from the origin's relay door, and from node-b as a relay parent).
      expect(await report(aJoin.reportUrl, 'node-a', aCred)).toBe(200);
      expect(await report(aJoin.reportUrl, 'node-a', originRelay)).toBe(401);
      expect((await opens(origin, pullUrl(aCred, aJoin.relay))).ok).toBe(true);
      await waitFor('node-b to take node-a as a relay child', async () => (await opens(origin, pullUrl(aCred, { host: bJoin.node.address, port: 8554 }))).ok, 30_000, 1000);
    });
  }, 420_000);

  it('after `haven node remove node-a` its tokens, reports and pulls are refused everywhere; node-b keeps its own', async () => {
    await steps.run(async () => {
      const removed = await t.cliOk(origin, originDir, ['node', 'remove', 'node-a']);
      console.log(`[${PREFIX}] haven node remove node-a said:\n${removed.stderr.trim()}`);
      expect(removed.stderr).toMatch(/revoked now: its own report and relay credential/);
      expect(removed.stderr).toMatch(/Digest verifier/);
      expect(removed.stderr).toMatch(/haven secrets rotate viewer-password/);
      expect(removed.stderr).toMatch(/never held the stream key/);
      const at = Date.now();

      // Every other node refuses a token node-a signs, as soon as its routing state no longer names node-a.
      await Promise.all(
        (['node-b', 'node-c'] as const).map(async (n) => {
          await waitFor(`${n} to refuse node-a's tokens`, async () => !(await opens(viewer, tokenUrl(aKey, n))).ok, 30_000, 250);
          console.log(`[${PREFIX}] ${n} refuses node-a's tokens ${((Date.now() - at) / 1000).toFixed(1)} s after the removal (each try is an ffprobe)`);
        }),
      );
      // The origin refuses its report credential and its pulls.
      expect(await report(aJoin.reportUrl, 'node-a', aCred)).toBe(401);
      const pull = await opens(origin, pullUrl(aCred, aJoin.relay));
      expect(pull.ok).toBe(false);
      expect(pull.why).toMatch(/401/);

      for (const n of ['node-b', 'node-c'] as const) {
        // Fresh tokens, again: refused every time, with a 401.
        for (let i = 0; i < 2; i++) {
          const r = await opens(viewer, tokenUrl(aKey, n));
          expect(r.ok, `${n} took a token signed by the removed node-a`).toBe(false);
          expect(r.why).toMatch(/401/);
        }
      }
      // node-b as a relay parent refuses node-a's pull credential too.
      await waitFor("node-b to refuse node-a's pull credential", async () => !(await opens(origin, pullUrl(aCred, { host: bJoin.node.address, port: 8554 }))).ok, 30_000, 500);

      // What belongs to node-b still works: its token at node-c, its report, its pulls.
      expect((await opens(viewer, tokenUrl(bKey, 'node-c'))).ok).toBe(true);
      expect(await report(bJoin.reportUrl, 'node-b', bCred)).toBe(200);
      expect((await opens(origin, pullUrl(bCred, bJoin.relay))).ok).toBe(true);
    });
  }, 240_000);
});
