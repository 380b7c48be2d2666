/**
 * Which TCP sockets MediaMTX listens on, from `ss -ltnpH` (inside a network namespace when given), and
 * which of them are on a public address: anything but loopback and the VPN subnets (a wildcard
 * `0.0.0.0`/`[::]`/`*` listener is public: it answers on every interface).
 *
 * For the e2e (one line, origin namespace): `expect(await publicMediaListeners({ ns: origin.ns, vpnSubnets: ['10.77.0.0/24'], ignorePorts: [1935] })).toEqual([])`
 * (`ignorePorts`: the RTMP ingest, when a test opts the origin into `ingest: lan`).
 */
import { BlockList, isIP } from 'node:net';
import { normalizeIp, parseHostPort } from '@haven/core';
import { run } from '../helpers/process.js';
import { requireTool } from '../helpers/tools.js';

export interface Listener {
  address: string;
  port: number;
  process: string;
  pid: number;
}

/** Parse `ss -ltnpH` lines: `LISTEN 0 4096 127.0.0.1:8654 0.0.0.0:* users:(("mediamtx",pid=12,fd=7))`. */
export function parseSs(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const local = f[3] ?? '';
    // A zone id (`%lo`, `%eth0`) names no address: dropped before the split.
    const { host: address, port = 0 } = parseHostPort(local.replace(/%[^:\]]*/, ''));
    for (const m of line.matchAll(/\("([^"]+)",pid=(\d+)/g)) out.push({ address, port, process: m[1] ?? '', pid: Number(m[2]) });
  }
  return out;
}

export function isPublic(address: string, vpnSubnets: readonly string[] = []): boolean {
  if (address === '*' || address === '0.0.0.0' || address === '::' || address === '') return true;
  const a = normalizeIp(address);
  const family = isIP(a);
  if (family === 0) return true;
  if (family === 4 && a.startsWith('127.')) return false;
  if (family === 6 && a === '::1') return false;
  const list = new BlockList();
  for (const s of vpnSubnets) {
    const [net = '', len = '32'] = s.split('/');
    list.addSubnet(net, Number(len), isIP(net) === 6 ? 'ipv6' : 'ipv4');
  }
  return !list.check(a, family === 6 ? 'ipv6' : 'ipv4');
}

/** Every TCP listener of a `mediamtx` process (in `ns` when given). */
export async function mediamtxListeners(ns?: string): Promise<Listener[]> {
  requireTool('ss', 'apt-get install iproute2');
  const r = ns ? await run('ip', ['netns', 'exec', ns, 'ss', '-ltnpH'], { timeoutMs: 15_000 }) : await run('ss', ['-ltnpH'], { timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`ss -ltnpH failed: ${r.stderr}`);
  return parseSs(r.stdout).filter((l) => l.process === 'mediamtx');
}

/** MediaMTX listeners on a public address (should be none on an origin: the gateway is the one public door). */
export async function publicMediaListeners(o: { ns?: string; vpnSubnets?: string[]; ignorePorts?: number[] } = {}): Promise<Listener[]> {
  return (await mediamtxListeners(o.ns)).filter((l) => isPublic(l.address, o.vpnSubnets ?? ['10.77.0.0/24']) && !(o.ignorePorts ?? []).includes(l.port));
}
