import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { release } from 'node:os';
import path from 'node:path';
import { findExecutable, parseHostPort, originExposure, originGatewayBind, type OriginConfig } from '@haven/core';
import { ingestDoctorChecks } from '@haven/ingest';
import { resolveBinary } from '@haven/plugin-mediamtx';
import { ApiClient } from '../runtime/client.js';
import { settingsOf } from '../home/derived.js';
import { print } from '../runtime/output.js';
import { hostReach, publicHostWarning } from '../home/public-host.js';
import type { Loaded } from '../home/loaded.js';
import { nodeTls } from './doctor-tls.js';
import type { Check, DoctorContext, Finding } from './findings.js';

const MIN_MEDIAMTX = [1, 19, 1];
const isOrigin = (ctx: DoctorContext) => ctx.l.loaded.config.role === 'origin';
const hasNodes = (ctx: DoctorContext) => (isOrigin(ctx) ? (ctx.l.loaded.config as OriginConfig).nodes.length > 0 : !!ctx.l.join);

/** CAP_NET_ADMIN (bit 12 of the effective set) or root: needed to create the WireGuard interface. */
export const capabilities: Check = (ctx) => {
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  const netAdmin = capEff !== undefined && (BigInt(`0x${capEff}`) & (1n << 12n)) !== 0n;
  if (netAdmin) return [{ level: 'ok', what: `network admin rights (${process.getuid?.() === 0 ? 'root' : 'CAP_NET_ADMIN'}) for WireGuard` }];
  return [
    {
      level: hasNodes(ctx) ? 'fail' : 'warn',
      what: 'no CAP_NET_ADMIN: WireGuard cannot create its interface',
      fix: 'run `haven` as root, or give node and wg/wireguard-go the capability (`setcap cap_net_admin+ep $(command -v wireguard-go)`)',
    },
  ];
};

function kernelWireGuard(): boolean {
  if (existsSync('/sys/module/wireguard')) return true;
  const dir = `/lib/modules/${release()}`;
  try {
    return readFileSync(path.join(dir, 'modules.builtin'), 'utf8').includes('/wireguard.ko') || readFileSync(path.join(dir, 'modules.dep'), 'utf8').includes('/wireguard.ko');
  } catch {
    return false;
  }
}

/** wg, ip, and WireGuard itself (kernel module or wireguard-go); ffmpeg only for tests and checks. */
export const tools: Check = (ctx) => {
  const out: Finding[] = [];
  const tool = (name: string, pkg: string, need: 'fail' | 'warn', why: string) => {
    const at = findExecutable(name, ctx.env);
    out.push(at ? { level: 'ok', what: `${name}: ${at}` } : { level: need, what: `${name} is not installed (${why})`, fix: `install the Debian package ${pkg}: apt-get install ${pkg}` });
  };
  tool('wg', 'wireguard-tools', 'fail', 'configures the VPN');
  tool('ip', 'iproute2', 'fail', 'creates the VPN interface');
  if (kernelWireGuard()) out.push({ level: 'ok', what: 'WireGuard: kernel module' });
  else {
    const go = findExecutable('wireguard-go', ctx.env);
    out.push(
      go
        ? { level: 'ok', what: `WireGuard: wireguard-go (${go}); no kernel module` }
        : { level: 'fail', what: 'WireGuard: no kernel module and no wireguard-go', fix: 'install the Debian package wireguard-go: apt-get install wireguard-go' },
    );
  }
  tool('ffmpeg', 'ffmpeg', 'warn', 'optional: test streams and the test suite');
  return out;
};

/** The MediaMTX binary answers `--version` with a version this Haven supports. */
export const mediamtxVersion: Check = (ctx) => {
  const bin = resolveBinary((ctx.l.loaded.pluginOptions.mediamtx as { binary?: string } | undefined)?.binary, ctx.env);
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000, env: ctx.env });
  const fix = 'put a MediaMTX v1.19.1+ binary on PATH or in MEDIAMTX_BIN; from a clone, `export MEDIAMTX_BIN=$(bash scripts/get-mediamtx.sh | tail -n 1)` builds one (scripts/start.sh does this)';
  if (r.error || r.status !== 0) return [{ level: 'fail', what: `MediaMTX: ${bin} does not run (${r.error?.message ?? `exit ${r.status}`})`, fix }];
  const v = /v(\d+)\.(\d+)\.(\d+)/.exec(r.stdout + r.stderr);
  if (!v) return [{ level: 'warn', what: `MediaMTX: ${bin} printed no version`, fix }];
  const parts = v.slice(1).map(Number);
  const older = (parts[0]! - MIN_MEDIAMTX[0]! || parts[1]! - MIN_MEDIAMTX[1]! || parts[2]! - MIN_MEDIAMTX[2]!) < 0;
  return older ? [{ level: 'fail', what: `MediaMTX ${v[0]} at ${bin} is older than v1.19.1`, fix }] : [{ level: 'ok', what: `MediaMTX ${v[0]} (${bin})` }];
};

/** The public host: others need it to reach this machine. */
export const publicHost: Check = (ctx) => {
  const host = ctx.l.loaded.config.public.host;
  const cfg = ctx.l.loaded.config;
  // The running gateway keeps the listeners it started with: say so while they differ from the config.
  const change = ctx.running?.exposure?.change;
  if (cfg.role === 'origin' && change) return [{ level: 'warn', what: `running origin: ${change}`, fix: 'restart the origin (`haven start`) when no viewer holds its old URL' }];
  if (cfg.role === 'origin' && originExposure(cfg) === 'private') {
    return [{ level: 'ok', what: 'private origin: nothing to forward; viewers come in through entry nodes and this machine dials each node' }];
  }
  const w = publicHostWarning(host, isOrigin(ctx) ? 'viewer URLs and join bundles' : "this node's viewer URLs");
  if (!w) return [{ level: 'ok', what: `public host ${host}` }];
  const reach = hostReach(host);
  return [{ level: 'warn', what: `public host ${host} is ${reach} (${reach === 'loopback' ? 'only this machine' : 'only your local network'} can reach it)`, fix: w.slice(w.indexOf(': ') + 2) }];
};

interface PortUse {
  proto: 'tcp' | 'udp';
  host: string;
  port: number;
  what: string;
  key: string;
}

function portOf(listen: string): { host: string; port: number } {
  const { host, port } = parseHostPort(listen);
  return { host: host || '0.0.0.0', port: port ?? 0 };
}

function portsOf(l: Loaded): PortUse[] {
  const cfg = l.loaded.config;
  const mtx = (l.loaded.pluginOptions.mediamtx ?? {}) as { rtmpAddress?: string; srtAddress?: string; apiAddress?: string };
  // A private origin's gateway is on loopback (viewers come through entry nodes).
  const bind = cfg.role === 'origin' ? originGatewayBind(cfg) : cfg.public.bind;
  const list: PortUse[] = [{ proto: 'tcp', host: bind, port: cfg.public.rtspPort, what: 'viewers (RTSP)', key: 'public.rtspPort' }];
  list.push({ proto: 'tcp', host: bind, port: cfg.public.hlsPort, what: 'viewers (HLS)', key: 'public.hlsPort' });
  if (cfg.role === 'origin') {
    const s = settingsOf(l.loaded);
    list.push({ ...portOf(cfg.api.listen), proto: 'tcp', what: 'control API and status page', key: 'api.listen' });
    list.push({ proto: 'tcp', host: '0.0.0.0', port: s.relay.port, what: 'MediaMTX RTSP (the gateway and nodes pull here)', key: 'plugins.mediamtx.rtspAddress' });
    if (mtx.rtmpAddress) list.push({ ...portOf(mtx.rtmpAddress), proto: 'tcp', what: 'OBS (RTMP)', key: 'plugins.mediamtx.rtmpAddress' });
    if (mtx.srtAddress) list.push({ ...portOf(mtx.srtAddress), proto: 'udp', what: 'OBS (SRT)', key: 'plugins.mediamtx.srtAddress' });
    list.push({ proto: 'udp', host: '0.0.0.0', port: s.vpn.listenPort, what: 'WireGuard', key: 'plugins.wireguard.listenPort' });
  }
  if (mtx.apiAddress) list.push({ ...portOf(mtx.apiAddress), proto: 'tcp', what: 'MediaMTX API (loopback)', key: 'plugins.mediamtx.apiAddress' });
  return list;
}

async function free(p: PortUse): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (p.proto === 'udp') {
      const s = createSocket(p.host.includes(':') ? 'udp6' : 'udp4');
      s.once('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
      s.bind(p.port, p.host, () => s.close(() => resolve(undefined)));
      return;
    }
    const s = createServer();
    s.once('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
    s.listen(p.port, p.host, () => s.close(() => resolve(undefined)));
  });
}

/** Each port the Haven listens on is free (or held by this Haven, when it runs). */
export const ports: Check = async (ctx) => {
  const list = portsOf(ctx.l);
  if (ctx.running) return [{ level: 'ok', what: `ports ${list.map((p) => `${p.port}/${p.proto}`).join(', ')}: in use by this running Haven` }];
  const out: Finding[] = [];
  for (const p of list) {
    const err = await free(p);
    if (!err) out.push({ level: 'ok', what: `port ${p.port}/${p.proto} free (${p.what})` });
    else if (err === 'EADDRINUSE') out.push({ level: 'fail', what: `port ${p.port}/${p.proto} (${p.what}) is in use by another program`, fix: `stop that program (\`ss -lntup | grep :${p.port}\` names it) or change ${p.key} in haven.yaml` });
    else if (err === 'EACCES') out.push({ level: 'fail', what: `port ${p.port}/${p.proto} (${p.what}) needs privileges`, fix: `run as root, or choose a port above 1023 for ${p.key}` });
    else out.push({ level: 'warn', what: `port ${p.port}/${p.proto} (${p.what}) could not be checked: ${err}`, fix: `check ${p.key} in haven.yaml` });
  }
  return out;
};

/** Nodes: reachable over the VPN, as the running origin sees them. */
export const nodesOverVpn: Check = (ctx) => {
  if (!isOrigin(ctx)) return [{ level: ctx.l.join ? 'ok' : 'warn', what: ctx.l.join ? `joined: origin ${ctx.l.join.origin.endpoint}` : 'this node has not joined yet', ...(ctx.l.join ? {} : { fix: 'run `haven node join <bundle>` with the bundle from the origin' }) }];
  const nodes = (ctx.l.loaded.config as OriginConfig).nodes;
  if (nodes.length === 0) return [{ level: 'ok', what: 'no nodes yet (`haven node add <share-code>` adds one)' }];
  if (!ctx.running) return [{ level: 'warn', what: `${nodes.length} node(s), origin not running: their reachability is unknown`, fix: 'start the origin (`haven start`) and run `haven doctor` again' }];
  return ctx.running.nodes
    .filter((n) => !n.origin)
    .map((n): Finding =>
      n.health === 'up'
        ? { level: 'ok', what: `node ${n.name}: up over the VPN` }
        : {
            level: 'warn',
            what: `node ${n.name}: ${n.health}${n.reason ? ` (${n.reason})` : ''}`,
            fix: `ask its owner to run \`haven start\`; check that UDP ${settingsOf(ctx.l.loaded).vpn.listenPort} reaches this machine (port forwarding) and that the node joined with a current bundle (\`haven node bundle ${n.name}\`)`,
          },
    );
};

/** Live streams: what the VRChat check found in what OBS sends, with the OBS setting to change. */
export const vrchatStreams: Check = (ctx) => {
  if (!isOrigin(ctx)) return [];
  if (!ctx.running?.streams) return [{ level: 'ok', what: 'VRChat check: runs while the origin is live and OBS publishes' }];
  const found = ingestDoctorChecks({ streams: ctx.running.streams });
  return found.length > 0 ? found : [{ level: 'ok', what: 'VRChat check: no stream is live now (it runs when OBS publishes)' }];
};

/** Every check `haven doctor` runs, in order. Others append theirs here. */
export const DOCTOR_CHECKS: Array<{ title: string; check: Check }> = [
  { title: 'tools', check: tools },
  { title: 'capabilities', check: capabilities },
  { title: 'MediaMTX', check: mediamtxVersion },
  { title: 'public host', check: publicHost },
  { title: 'ports', check: ports },
  { title: 'nodes', check: nodesOverVpn },
  { title: 'VRChat', check: vrchatStreams },
  { title: 'HTTPS', check: nodeTls },
];

const MARK = { ok: '✓', warn: '!', fail: '✗' } as const;

/** Run every check, print one line each (with what to do), and return the exit code: 1 on a failure. */
export async function doctor(l: Loaded, o: { json: boolean; env?: NodeJS.ProcessEnv; checks?: typeof DOCTOR_CHECKS }): Promise<number> {
  const ctx: DoctorContext = { l, env: o.env ?? process.env };
  if (isOrigin(ctx)) {
    const api = await ApiClient.for(l);
    if (await api.reachable()) ctx.running = await api.call<NonNullable<DoctorContext['running']>>('GET', '/api/status').catch(() => undefined);
  }
  const results: Array<Finding & { check: string }> = [];
  for (const { title, check } of o.checks ?? DOCTOR_CHECKS) {
    let found: Finding[];
    try {
      found = await check(ctx);
    } catch (err) {
      found = [{ level: 'warn', what: `${title}: could not check (${(err as Error).message})` }];
    }
    results.push(...found.map((f) => ({ ...f, check: title })));
  }
  const failed = results.filter((r) => r.level === 'fail').length;
  if (o.json) print(JSON.stringify({ ok: failed === 0, findings: results }, null, 2));
  else {
    for (const r of results) print(`${MARK[r.level]} ${r.what}${r.fix ? `\n    → ${r.fix}` : ''}`);
    const warned = results.filter((r) => r.level === 'warn').length;
    print(`\n${failed ? `${failed} problem(s) to fix` : 'no problem found'}${warned ? `, ${warned} warning(s)` : ''}`);
  }
  return failed ? 1 : 0;
}
