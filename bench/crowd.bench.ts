// A crowd on a Haven, end to end (issue: "300 viewers on five nodes"), in network namespaces, driven
// through the `haven` CLI only: a private origin behind an nftables NAT, entry nodes in distinct
// regions with `capacity`, `relay.maxChildren`, ffmpeg publishing 400 kbit/s H.264 (1 s keyframes) +
// AAC over RTMP. Viewers from many addresses in viewer namespaces placed in the regions (geo
// overrides) arrive over a minute: 60% PC-like (MS-RTSP: a 302 means a new connection), 30% Quest-like
// (media3: same connection), 10% FFmpeg; light readers (bench/crowd/reader.ts), world-player retries.
// Then a steady window (egress, CPU/RSS against a bare MediaMTX serving as many readers, glass-to-glass),
// then a node carrying about 1/N of the viewers, a relay parent, is killed.
//   pnpm bench crowd                     300 viewers, five nodes (~6 min)
//   node bench/run.mjs --smoke crowd     30 viewers, three nodes (CI)
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Host } from '../test/e2e/topology.js';
import { Topology } from '../test/e2e/topology.js';
import { makeSecretsRedactor } from '../test/e2e/viewers.js';
import { leftovers } from '../test/helpers/netns.js';
import { waitFor, type Spawned } from '../test/helpers/process.js';
import { repoRoot, requireTool } from '../test/helpers/tools.js';
import { firstAfter } from './flash.js';
import { median, rng, smoke } from './lib.js';
import type { ReaderParams, ReaderSpec } from './crowd/events.js';
import { outsideIf, sampleNs, startPeer, txBytes, usage } from './crowd/measure.js';
import { buildHaven, buildNetwork, status, waitNodesUp, type Crowd, type CrowdStatus } from './crowd/setup.js';
import { FPS, KBPS, publish, sampler, type Publisher, type Sampler } from './crowd/stream.js';
import { killReport } from './crowd/kill.js';
import { lossBreakdown } from './crowd/diagnose.js';
import { longestGap, quantile, s1, Tally } from './crowd/tally.js';

const PREFIX = 'crowd';
const REGIONS = ['eu-central', 'us-east', 'ap-northeast', 'sa-east', 'au-east'];
const S = smoke
  ? { nodes: 3, viewers: 30, arrivalMs: 12_000, addresses: 4, maxChildren: 1, capacity: 15, windowMs: 8_000, flashes: 2, settleMs: 30_000, afterKillMs: 25_000 }
  : { nodes: 5, viewers: 300, arrivalMs: 60_000, addresses: 7, maxChildren: 3, capacity: 80, windowMs: 15_000, flashes: 4, settleMs: 60_000, afterKillMs: 30_000 };
const PEER_PORT = 8654;
const READER = path.join(repoRoot, 'bench/crowd/reader.ts');

const lines: string[] = [];
const say = (s: string) => {
  lines.push(s);
  console.log(s);
};
const goal = (ok: boolean) => (ok ? 'goal met' : 'GOAL MISSED');

/** Reader specs: kind by share, region round-robin, addresses spread, arrivals spread over `arrivalMs`. */
function crowdSpecs(c: Crowd, count: number, firstId: number): Array<ReaderSpec & { place: number }> {
  const rand = rng(25);
  const names = c.nodes.map((n) => n.name);
  return Array.from({ length: count }, (_, i) => {
    const place = i % c.viewers.length;
    const v = c.viewers[place]!;
    const own = names.indexOf(c.nodes[place]!.name);
    const urls = [...names.slice(own), ...names.slice(0, own)].map((n) => c.entries.get(n)!);
    const k = i % 10;
    return {
      id: firstId + i,
      place,
      kind: k < 6 ? 'pc' : k < 9 ? 'quest' : 'ffmpeg',
      urls,
      startMs: Math.round(rand() * S.arrivalMs),
      localAddress: v.addresses[Math.floor(i / c.viewers.length) % v.addresses.length]!,
    } as ReaderSpec & { place: number };
  });
}

/** One reader process per namespace; its JSON lines go to the tally. */
function startReaders(c: Crowd, host: Host, readers: ReaderSpec[], t0: number, tally: Tally): Spawned {
  const params: ReaderParams = { readers, t0, untilMs: t0 + 20 * 60_000 };
  const p = c.t.h.spawn(host.ns, process.execPath, ['--import', 'tsx', READER, JSON.stringify(params)], { cwd: repoRoot });
  let rest = '';
  p.child.stdout?.on('data', (d: Buffer) => {
    const ls = (rest + d.toString()).split('\n');
    rest = ls.pop() ?? '';
    for (const l of ls) tally.line(l);
  });
  return p;
}

async function main(): Promise<void> {
  requireTool('nft', 'apt-get install nftables');
  const t = await Topology.create(PREFIX);
  const procs: Spawned[] = [];
  let pub: Publisher | undefined;
  let failed = false;
  let redact: (s: string) => string = (s) => s;
  let finishing: Promise<void> | undefined;
  const finish = () =>
    (finishing ??= (async () => {
      await pub?.stop().catch(() => {});
      for (const p of procs) await p.stop('SIGTERM', 2000).catch(() => {});
      await t.cleanup().catch((err: unknown) => {
        failed = true;
        console.error(err);
      });
      const left = await leftovers(PREFIX);
      const none = !left.namespaces.length && !left.links.length && !left.pids.length && !left.sockets.length;
      say(`[crowd] after the run: ${none ? 'no namespace, link, process or WireGuard socket left' : `LEFT: ${JSON.stringify(left)}`}`);
      if (!none) failed = true;
    })());
  // Stopped from outside (a timeout, Ctrl-C): tear everything down before exiting.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      console.error(`[crowd] ${sig}: cleaning up`);
      void finish().finally(() => process.exit(1));
    });
  }
  try {
    const shape = { prefix: PREFIX, regions: REGIONS.slice(0, S.nodes), addressesPerPlace: S.addresses, maxChildren: S.maxChildren, capacity: S.capacity };
    const net = await buildNetwork(t, shape);
    const peerHost = await t.host('peer', 40);
    const builtAt = Date.now();
    const c = await buildHaven(t, shape, net);
    redact = await makeSecretsRedactor(c.originDir);
    pub = publish(t, c.origin, c.rtmpUrl);
    await waitFor('the stream live at the origin', async () => (await status(c)).streams[0]?.ready, 30_000, 250);
    await waitNodesUp(c, 120_000);
    say(`[crowd] ${S.nodes} entry nodes (${shape.regions.join(', ')}), capacity ${S.capacity} each, relay.maxChildren ${S.maxChildren}; private origin behind NAT; stream ${KBPS} kbit/s H.264 ${FPS} fps GOP 1 s + AAC; Haven up in ${s1(Date.now() - builtAt)}`);

    // The peer pulls the same stream through the first entry (one reader there, as any RTSP client).
    const peerDir = await t.dir(peerHost);
    procs.push(await startPeer(t, peerHost, peerDir, c.entries.get(c.nodes[0]!.name)!, PEER_PORT));

    // The crowd arrives.
    const tally = new Tally();
    const specs = crowdSpecs(c, S.viewers, 1);
    const t0 = Date.now() + 1000;
    for (const s of specs) tally.add(s, c.viewers[s.place]!.region, t0);
    const readerProcs = c.viewers.map((v, i) => startReaders(c, v.host, specs.filter((s) => s.place === i), t0, tally));
    procs.push(...readerProcs);
    const addresses = new Set(specs.map((s) => s.localAddress)).size;
    const kinds = (k: string) => specs.filter((s) => s.kind === k).length;
    say(`[crowd] ${S.viewers} viewers from ${addresses} addresses in ${c.viewers.length} regions arriving over ${s1(S.arrivalMs)}: ${kinds('pc')} PC (MS-RTSP), ${kinds('quest')} Quest (media3), ${kinds('ffmpeg')} FFmpeg`);
    await waitFor('every viewer playing', () => tally.playing().length === S.viewers || undefined, S.arrivalMs + S.settleMs, 500).catch(() => undefined);
    const settledAt = Date.now();
    const all = tally.all();
    const ff = all.filter((r) => r.firstPlayAt !== undefined).map((r) => r.firstPlayAt! - r.arrivedAt);
    say(`[crowd] playing ${tally.playing().length} of ${S.viewers} ${s1(settledAt - t0)} after the first arrival (arrivals over ${s1(S.arrivalMs)}) (${goal(tally.playing().length === S.viewers)}: all); first frame p50 ${s1(quantile(ff, 0.5))}, p99 ${s1(quantile(ff, 0.99))}, max ${s1(Math.max(0, ...ff))}`);

    // Steady window: byte counters, CPU/RSS, the peer serving as many readers as a node, flashes.
    const perNode = Math.round(S.viewers / S.nodes);
    const peerTally = new Tally();
    const peerSpecs: ReaderSpec[] = Array.from({ length: perNode }, (_, i) => ({ id: 100_000 + i, kind: 'ffmpeg', urls: [`rtsp://127.0.0.1:${PEER_PORT}/live`], startMs: 0, localAddress: '127.0.0.1' }));
    const pt0 = Date.now();
    for (const s of peerSpecs) peerTally.add(s, 'peer', pt0);
    procs.push(startReaders(c, peerHost, peerSpecs, pt0, peerTally));
    await waitFor('the peer readers playing', () => peerTally.playing().length === perNode || undefined, 30_000, 250).catch(() => undefined);
    const samplers: Sampler[] = [];
    for (const [i, v] of c.viewers.slice(0, 3).entries()) samplers.push(sampler(t, v.host, c.entries.get(c.nodes[i]!.name)!));
    for (const s of samplers) procs.push(s.proc);
    await waitFor('the glass-to-glass samplers decoding', () => samplers.every((s) => s.frames() > FPS) || undefined, 30_000, 250).catch(() => undefined);

    const outIf = await outsideIf(t, c.nat);
    const nodeWgIf = (await import('@haven/plugin-wireguard')).defaultInterfaceName;
    const snap = async () => ({
      at: Date.now(),
      originWg: await t.wgTransfer(c.origin, c.originWg),
      nodeWg: await Promise.all(c.nodes.map((n) => t.wgTransfer(n.host, nodeWgIf(n.key)))),
      natOut: await txBytes(t, c.nat, outIf),
      procs: await Promise.all([...c.nodes.map((n) => n.host), peerHost].map((h) => sampleNs(h))),
    });
    const a = await snap();
    for (let i = 0; i < S.flashes; i++) {
      pub.flash();
      await sleep(S.windowMs / S.flashes);
    }
    const b = await snap();
    const st: CrowdStatus = await status(c);
    const secs = (b.at - a.at) / 1000;
    const sumTx = (m: Map<string, { tx: number }>, m0: Map<string, { tx: number }>) => [...m].reduce((n, [k, v]) => n + v.tx - (m0.get(k)?.tx ?? 0), 0);
    const sumRx = (m: Map<string, { rx: number }>, m0: Map<string, { rx: number }>) => [...m].reduce((n, [k, v]) => n + v.rx - (m0.get(k)?.rx ?? 0), 0);
    const parentOf = new Map((st.relay?.edges ?? []).map((e) => [e.node, e.parent]));
    const direct = c.nodes.map((n, i) => ({ n, i })).filter(({ n }) => parentOf.get(n.name) === 'origin');
    const copy = median(direct.map(({ i }) => sumRx(b.nodeWg[i]!, a.nodeWg[i]!)));
    const originOut = sumTx(b.originWg, a.originWg);
    const natOut = b.natOut - a.natOut;
    const viewers = tally.playing().length;
    say(`[crowd] relay tree: ${c.nodes.map((n) => `${n.name} < ${parentOf.get(n.name) ?? '?'}`).join(', ')}`);
    const toChildren = direct.reduce((n, { n: node }) => n + (b.originWg.get(node.key)?.tx ?? 0) - (a.originWg.get(node.key)?.tx ?? 0), 0);
    const copies = toChildren / copy;
    say(
      `[crowd] origin egress over ${secs.toFixed(1)} s: WireGuard tx to its ${direct.length} direct children ${toChildren} B = ${copies.toFixed(2)} copies of the stream (one copy = ${copy} B, what a direct child receives; ${goal(copies <= 3.05)}: <= 3), ` +
        `to the other nodes ${originOut - toChildren} B (routing state, relay answers); NAT outside tx ${natOut} B = ${Math.round(natOut / Math.max(1, viewers))} B per viewer for ${viewers} viewers, ` +
        `against ${copy} B per viewer straight at a public origin (${copy * viewers} B = stream bytes x viewers): ${((natOut / (copy * viewers)) * 100).toFixed(1)}%`,
    );
    const byIp = new Map(c.nodes.map((n) => [n.host.ip, n]));
    for (const [i, n] of c.nodes.entries()) {
      const u = usage(a.procs[i]!, b.procs[i]!, secs);
      const v = st.nodes.find((x) => x.name === n.name)?.viewers ?? 0;
      const mine = tally.playing().filter((r) => r.host === n.host.ip).length;
      const both = u.cpu.haven + u.cpu.mediamtx;
      say(
        `[crowd] ${n.name} (${n.region}): viewers ${v} of capacity ${n.capacity} (readers here: ${mine}); CPU Haven ${u.cpu.haven.toFixed(1)}% + MediaMTX ${u.cpu.mediamtx.toFixed(1)}% + wireguard-go ${u.cpu['wireguard-go'].toFixed(1)}% of a core = ` +
          `${mine ? (both / mine).toFixed(3) : '-'}% per viewer; RSS Haven ${u.rssMiB.haven.toFixed(0)} MiB, MediaMTX ${u.rssMiB.mediamtx.toFixed(0)} MiB (${b.procs[i]!.length} processes)`,
      );
    }
    const pu = usage(a.procs[c.nodes.length]!, b.procs[c.nodes.length]!, secs);
    const peerPlaying = peerTally.playing().length;
    say(`[crowd] peer, MediaMTX alone serving ${peerPlaying} readers: CPU ${pu.cpu.mediamtx.toFixed(1)}% = ${peerPlaying ? (pu.cpu.mediamtx / peerPlaying).toFixed(3) : '-'}% per viewer; RSS ${pu.rssMiB.mediamtx.toFixed(0)} MiB (${b.procs[c.nodes.length]!.filter((p) => p.kind === 'mediamtx').length} MediaMTX process)`);
    const g2g = samplers.map((s) => pub!.sent.flatMap((x) => {
      const y = firstAfter(s.brightAt, x, 4000);
      return y === undefined ? [] : [(y - x) / 1000];
    }));
    say(`[crowd] glass-to-glass (ffmpeg decoding an entry URL, white flash in the published video): ${g2g.map((xs, i) => `${c.viewers[i]!.region} ${xs.length ? `median ${median(xs).toFixed(2)} s (${xs.length} of ${pub!.sent.length} flashes)` : 'no flash seen'}`).join('; ')}`);
    const steady = all.map((r) => longestGap(r, (r.firstPlayAt ?? settledAt) + 1, b.at));
    say(`[crowd] longest gap per reader before the kill (gaps under 0.7 s not counted): p50 ${s1(quantile(steady, 0.5))}, p99 ${s1(quantile(steady, 0.99))}, max ${s1(Math.max(0, ...steady))}; connections lost meanwhile (seconds counted from the first arrival): ${lossBreakdown(all, t0, undefined, (h) => (h ? (byIp.get(h)?.name ?? h) : '?'))}`);
    for (const s of samplers) await s.proc.stop('SIGTERM', 2000);

    // A node dies: a relay parent carrying its share of the viewers.
    await killReport({ c, tally, st, byIp, say, goal, afterKillMs: S.afterKillMs, total: S.viewers, readers: readerProcs });
  } catch (err) {
    failed = true;
    console.error(err);
    console.error(redact(t.logs().slice(-12_000)));
  } finally {
    await finish();
  }
  process.exit(failed ? 1 : 0);
}

void main();
