/**
 * What the crowd reads from the machine: CPU and RSS per process of a namespace from /proc/<pid>/stat
 * (the Haven process, its MediaMTX, wireguard-go), interface and WireGuard byte counters, and the peer:
 * a bare MediaMTX (the same binary, no Haven) pulling the same stream and serving the same readers.
 */
import { readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Host, Topology } from '../../test/e2e/topology.js';
import type { Spawned } from '../../test/helpers/process.js';
import { mediamtxBin } from '../../test/helpers/tools.js';

const sysconf = {
  pageSize: Number(execFileSync('getconf', ['PAGESIZE']).toString().trim()),
  ticksPerSecond: Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()),
};

export type ProcKind = 'haven' | 'mediamtx' | 'wireguard-go' | 'other';

export interface ProcSample {
  pid: number;
  kind: ProcKind;
  /** utime + stime, clock ticks. */
  ticks: number;
  rssBytes: number;
}

async function kindOf(pid: number): Promise<ProcKind> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean);
  const exe = path.basename(argv[0] ?? '');
  if (exe === 'mediamtx') return 'mediamtx';
  if (exe === 'wireguard-go') return 'wireguard-go';
  if (argv.some((a) => a.endsWith('cli.js')) && argv.includes('start')) return 'haven';
  return 'other';
}

/** The pids whose network namespace is `ns` (read from /proc: `ip netns pids` can come back short under load). */
async function pidsOf(ns: string): Promise<number[]> {
  const inode = (await stat(`/run/netns/${ns}`).catch(() => undefined))?.ino;
  if (inode === undefined) return [];
  const want = `net:[${inode}]`;
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  const out: number[] = [];
  for (const d of pids) if ((await readlink(`/proc/${d}/ns/net`).catch(() => '')) === want) out.push(Number(d));
  return out;
}

/** One sample of every process in the namespace. */
export async function sampleNs(host: Host): Promise<ProcSample[]> {
  const pids = await pidsOf(host.ns);
  const out: ProcSample[] = [];
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    // Fields after the parenthesised command: state is field 3; utime 14, stime 15, rss 24.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.push({ pid, kind: await kindOf(pid), ticks: Number(f[11]) + Number(f[12]), rssBytes: Number(f[21]) * sysconf.pageSize });
  }
  return out;
}

export interface Usage {
  /** CPU, % of one core, over the window. */
  cpu: Record<ProcKind, number>;
  /** RSS at the end of the window, MiB. */
  rssMiB: Record<ProcKind, number>;
}

/** CPU over the window between two samples and the RSS of the second, per kind. */
export function usage(a: ProcSample[], b: ProcSample[], seconds: number): Usage {
  const zero = (): Record<ProcKind, number> => ({ haven: 0, mediamtx: 0, 'wireguard-go': 0, other: 0 });
  const cpu = zero();
  const rssMiB = zero();
  for (const s of b) {
    const before = a.find((x) => x.pid === s.pid)?.ticks ?? s.ticks;
    cpu[s.kind] += ((s.ticks - before) / sysconf.ticksPerSecond / seconds) * 100;
    rssMiB[s.kind] += s.rssBytes / 1048576;
  }
  return { cpu, rssMiB };
}

/** Bytes sent by an interface of the namespace (its kernel counter). */
export async function txBytes(t: Topology, host: Host, ifname: string): Promise<number> {
  return Number((await t.h.execOk(host.ns, 'cat', [`/sys/class/net/${ifname}/statistics/tx_bytes`])).trim());
}

/** The namespace's interface towards the internet (its default route's). */
export async function outsideIf(t: Topology, host: Host): Promise<string> {
  const out = await t.h.execOk(host.ns, 'ip', ['route', 'show', 'default']);
  const dev = /dev (\S+)/.exec(out)?.[1];
  if (!dev) throw new Error(`no default route in ${host.name}`);
  return dev;
}

/**
 * The peer: MediaMTX alone (no Haven), pulling `source` (an entry URL, as any RTSP client would) and
 * serving RTSP over TCP on `port` to anyone (no auth: the readers are local). Stopped by the harness.
 */
export async function startPeer(t: Topology, host: Host, dir: string, source: string, port: number): Promise<Spawned> {
  const conf = [
    'logLevel: warn',
    'api: no',
    'metrics: no',
    'pprof: no',
    'playback: no',
    'rtmp: no',
    'hls: no',
    'webrtc: no',
    'srt: no',
    'rtsp: yes',
    'rtspTransports: [tcp]',
    `rtspAddress: 127.0.0.1:${port}`,
    'authInternalUsers:',
    '  - user: any',
    '    pass:',
    '    ips: []',
    '    permissions:',
    '      - action: read',
    'paths:',
    '  live:',
    `    source: ${JSON.stringify(source)}`,
    '    rtspTransport: tcp',
    '    sourceOnDemand: no',
    '',
  ].join('\n');
  const file = path.join(dir, 'peer-mediamtx.yml');
  await writeFile(file, conf, { mode: 0o600 });
  // In its own folder: files MediaMTX writes (a self-signed certificate it makes at start) stay there.
  return t.h.spawn(host.ns, mediamtxBin(), [file], { cwd: dir });
}
