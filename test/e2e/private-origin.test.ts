/**
 * A private origin behind NAT (issue 15's Must show; the scenario is in private-origin.ts): entry
 * nodes are the front door. Viewers are given entry URLs only and play them with ffprobe and the
 * MS-RTSP and media3 emulators; nft counters show no viewer packet reached the origin's addresses, and
 * no answer a viewer or the streamer's URL list could show names them. Last, the origin's egress per
 * viewer: 1 node x 6 viewers (WireGuard bytes) against 6 viewers straight to a public origin (`haven
 * init`, no node: public by default; its outside interface), and the ratio. An entry dying or losing
 * the origin is in private-origin-entries.test.ts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/process.js';
import { usePrivateOrigin } from './private-origin.js';
import { probe } from './viewers.js';

const WINDOW_MS = 8000;

describe('a private origin behind NAT: entry nodes are the front door', () => {
  const po = usePrivateOrigin('hvpriv');

  it('the origin from `haven init` (exposure unset) adds two entry nodes, which makes it private; they join, and the origin dials them from behind the NAT', async () => {
    await po.step(() => po.bringUp());
  });

  it('haven urls, the status page and /api/urls give one URL per entry, by region, and never the origin', async () => {
    await po.step(async () => {
      const { t, origin, originDir, nodes, redact } = po;
      const r = await t.cliOk(origin, originDir, ['urls']);
      const urlsText = `${r.stdout}\n${r.stderr}`;
      const json = await po.loadEntryUrls();
      expect(json.viewer.map((v) => v.entry)).toEqual(['node-a', 'node-b']); // eu-central before us-east
      const { entryUrls } = po;
      expect(new URL(entryUrls['node-a']!).host).toBe(`${nodes['node-a'].ip}:8554`);
      expect(urlsText).toMatch(/VRChat world: Paste the rtspt:\/\/ URL of the entry in the world's region/);
      const page = await t.exec(origin, 'curl', ['-fsS', 'http://127.0.0.1:8880/']);
      expect(page.code).toBe(0);
      const answers = [
        urlsText,
        JSON.stringify(json),
        page.stdout,
        JSON.stringify(await po.api('/api/status')),
        JSON.stringify(await po.api('/api/urls')),
        JSON.stringify(await po.api('/api/nodes')),
      ];
      const links = (await po.api<{ links: Array<{ node: string | null }> }>('/api/status')).links;
      expect(links.map((l) => l.node)).toEqual(['node-a', 'node-b']);
      for (const a of po.originAddresses()) for (const text of answers) expect(text.includes(a), `${a} in ${redact(text).slice(0, 300)}`).toBe(false);
    });
  });

  it('viewers given only entry URLs play: ffprobe, the MS-RTSP and media3 emulators; nothing they see names the origin', async () => {
    await po.step(async () => {
      const { t, origin, originDir, nodes, nodeDirs, viewers, entryUrls, redact, figures } = po;
      for (const [i, entry] of [[0, 'node-a'], [1, 'node-b']] as const) {
        const p = await probe(t, viewers[i]!, entryUrls[entry]!);
        expect(p.code, redact(p.stderr.slice(-1500))).toBe(0);
        expect(p.codecs).toContain('h264');
      }
      const ms = await po.emulate(viewers[2]!, 'ms-rtsp', entryUrls['node-a']!, 'Microsoft-Windows/10.0 UPnP/1.0');
      expect(ms.played, JSON.stringify(ms)).toBe(true);
      const m3 = await po.emulate(viewers[2]!, 'media3', entryUrls['node-b']!, 'AndroidXMedia3/1.5.1');
      expect(m3.played, JSON.stringify(m3)).toBe(true);
      for (const r of [ms, m3]) for (const hop of r.hops) expect(po.originAddresses()).not.toContain(hop.host);
      // Every RTSP answer and the SDP a viewer gets (ffprobe at trace level prints them).
      const trace = await t.exec(viewers[0]!, 'ffprobe', ['-v', 'trace', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'json', entryUrls['node-a']!], 30_000);
      expect(trace.code).toBe(0);
      expect(trace.stderr).toMatch(/RTSP\/1\.0 200/);
      for (const a of po.originAddresses()) expect(trace.stderr.includes(a), `${a} in a viewer-visible answer`).toBe(false);
      // HLS from an entry's own MediaMTX: the password checked against the routing state's HA1 (MediaMTX
      // answers the first request with a 302 that sets its session cookie: curl follows it with cookies on).
      const hls = (JSON.parse((await t.cliOk(origin, originDir, ['urls', '--json'])).stdout) as { viewer: Array<{ entry?: string; hls: string }> }).viewer.find((v) => v.entry === 'node-a')!.hls;
      let last = '';
      const playlist = await waitFor('the HLS playlist of node-a', async () => {
        const r = await t.exec(viewers[1]!, 'curl', ['-sS', '-L', '-b', '', '--max-time', '10', hls]);
        last = redact(`${r.code} ${r.stdout.slice(0, 200)} ${r.stderr.slice(-300)}`);
        return r.stdout.includes('#EXTM3U') ? r.stdout : undefined;
      }, 30_000, 1000).catch((err: Error) => {
        throw new Error(`${err.message}; last answer: ${last}`);
      });
      expect(playlist).toContain('#EXTM3U');
      const wrong = await t.exec(viewers[1]!, 'curl', ['-sS', '-L', '-b', '', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', hls.replace(/viewer:[^@]+@/, 'viewer:NotThePassword1@')]);
      expect(wrong.stdout).toBe('401');
      // No file a node keeps holds the viewer password (its secrets hold a random value of its own).
      const viewerPassword = (JSON.parse(await readFile(path.join(originDir, 'state', 'secrets.json'), 'utf8')) as { viewerPassword: string }).viewerPassword;
      for (const name of ['node-a', 'node-b']) {
        const grep = await t.exec(nodes[name as 'node-a'], 'grep', ['-rlF', viewerPassword, nodeDirs[name]!]);
        expect(grep.stdout.trim(), `files of ${name} holding the viewer password`).toBe('');
      }
      figures.push(`[private origin] plays from entries: ffprobe on node-a and node-b, MS-RTSP ${ms.packets} packets (hops ${ms.hops.map((h) => h.host).join(' > ')}), media3 ${m3.packets} packets`);
    });
  });

  it('the origin egress per viewer: 1 node x 6 viewers (WireGuard bytes) against 6 viewers straight to a public origin', async () => {
    await po.step(async () => {
      const { t, origin, viewers, entryUrls, nodeKeys, originWg, figures } = po;
      // 6 readers on entry node-a, two from each viewer namespace.
      const held = viewers.flatMap((v) => [po.hold(v, entryUrls['node-a']!), po.hold(v, entryUrls['node-a']!)]);
      const aWg = nodeKeys['node-a']!;
      await waitFor('6 readers on node-a', async () => {
        const s = await po.api<{ nodes: Array<{ name: string; viewers: number }> }>('/api/status');
        return (s.nodes.find((n) => n.name === 'node-a')?.viewers ?? 0) >= 6;
      }, 60_000, 500);
      const before = await t.wgTransfer(origin, originWg);
      const outBefore = await po.txBytes(origin, (await po.lanIf(origin)));
      await new Promise((r) => setTimeout(r, WINDOW_MS));
      const after = await t.wgTransfer(origin, originWg);
      const outAfter = await po.txBytes(origin, (await po.lanIf(origin)));
      const toA = (after.get(aWg)?.tx ?? 0) - (before.get(aWg)?.tx ?? 0);
      const allWg = [...after.entries()].reduce((n, [k, v]) => n + v.tx - (before.get(k)?.tx ?? 0), 0);
      for (const p of held) await p.stop('SIGTERM', 3000);
      expect(held.length).toBe(6);

      // The same 6 viewers straight to an origin with no node (`haven init`: public while it has none).
      const pub = await t.host('public-origin', 40);
      const pubDir = await t.dir(pub);
      await t.cliOk(pub, pubDir, ['init', '--name', 'origin', '--public-host', pub.ip, '--region', 'eu-central']);
      await t.start(pub, pubDir);
      const pubUrls = JSON.parse((await t.cliOk(pub, pubDir, ['urls', '--json'])).stdout) as { publish: Array<{ rtmp: string }>; viewer: Array<{ rtsp: string }> };
      expect(new URL(pubUrls.viewer[0]!.rtsp).host).toBe(`${pub.ip}:8554`);
      po.publish(pub, pubUrls.publish[0]!.rtmp);
      await waitFor('the stream live at the public origin', async () => (await t.fetchJson<{ streams: Array<{ ready: boolean }> }>(pub, 'http://127.0.0.1:8880/api/status', { token: (await readFile(path.join(pubDir, 'state', 'api-token'), 'utf8')).trim() })).streams[0]?.ready, 30_000, 250);
      const straight = viewers.flatMap((v) => [po.hold(v, pubUrls.viewer[0]!.rtsp), po.hold(v, pubUrls.viewer[0]!.rtsp)]);
      const pubIf = await po.lanIf(pub);
      await waitFor('6 readers at the public origin', async () => (await t.tcpPeers(pub)).filter((p) => viewers.some((v) => p.startsWith(`${v.ip}:`))).length >= 6, 60_000, 500);
      await new Promise((r) => setTimeout(r, 2000));
      const pubBefore = await po.txBytes(pub, pubIf);
      await new Promise((r) => setTimeout(r, WINDOW_MS));
      const pubAfter = await po.txBytes(pub, pubIf);
      for (const p of straight) await p.stop('SIGTERM', 3000);
      const pubOut = pubAfter - pubBefore;
      const perPrivate = toA / 6;
      const perPublic = pubOut / 6;
      figures.push(
        `[private origin] origin egress over ${WINDOW_MS / 1000} s, 6 viewers: through 1 entry node ${toA} B WireGuard tx to node-a (all peers ${allWg} B, outside interface ${outAfter - outBefore} B) = ${Math.round(perPrivate)} B/viewer; ` +
          `straight to a public origin ${pubOut} B = ${Math.round(perPublic)} B/viewer; ratio private/public ${(perPrivate / perPublic).toFixed(3)} (1/${(perPublic / perPrivate).toFixed(1)})`,
      );
      expect(toA).toBeGreaterThan(0);
      expect(perPrivate).toBeLessThan(perPublic / 2);
    });
  });

  it('no packet from any viewer namespace reached the origin (nft counters on the NAT and the origin)', async () => {
    await po.step(async () => {
      const { nat, origin, figures } = po;
      const toOrigin = await po.counter(nat, 'viewer_to_origin');
      const inOrigin = await po.counter(origin, 'viewer_in');
      const fromNodes = await po.counter(nat, 'node_to_origin');
      figures.push(`[private origin] nft: viewer packets to the origin's addresses ${toOrigin} (at the NAT), ${inOrigin} (at the origin); node packets to the NAT's address ${fromNodes} (the counters count)`);
      expect(fromNodes).toBeGreaterThan(0);
      expect(toOrigin).toBe(0);
      expect(inOrigin).toBe(0);
    });
  });
});
