/**
 * What a relay e2e failure should explain by itself: for each node, the state of its MediaMTX paths
 * (`up/<stream>` following the parent, and the viewer path `<stream>`), where `up/<stream>` pulls from,
 * and the origin's view of the tree and of node health.
 *
 * The node's Control API needs its internal credential: it is read from the node's own 0600 MediaMTX
 * config (the viewer path's loopback source URL) and handed to the request through the environment,
 * never printed. Source URLs are printed as host:port/path only.
 */
import { readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import type { Topology, HavenProcess } from './topology.js';

const find = promisify(execFile);

interface MtxPathItem {
  name: string;
  available?: boolean;
  online?: boolean;
  ready?: boolean;
  source?: { type: string } | null;
  readers?: unknown[];
  inboundBytes?: number;
  tracks2?: Array<{ codec: string }>;
}

/** `rtsp://user:pass@host:port/path` -> `host:port/path`. */
function where(url: unknown): string {
  if (typeof url !== 'string') return String(url);
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

export interface NodeMtxConf {
  apiAddress: string;
  paths: Record<string, { source?: string; alwaysAvailable?: boolean; forward?: Array<{ dest: string }> }>;
}

/** A node's MediaMTX config file as its plugin wrote it (0600, holds secrets: never print it). */
export async function nodeMtxConf(node: HavenProcess): Promise<NodeMtxConf | undefined> {
  const { stdout } = await find('find', [node.dir, '-name', 'mediamtx.yml', '-path', '*mediamtx*']);
  const file = stdout.trim().split('\n')[0];
  return file ? (parse(await readFile(file, 'utf8')) as NodeMtxConf) : undefined;
}

/** One node's MediaMTX path states, as a few lines. */
export async function nodePathStates(t: Topology, node: HavenProcess, stream: string): Promise<string> {
  const out: string[] = [`[${node.host.name}]`];
  try {
    if (node.proc.child.exitCode !== null || node.proc.child.signalCode !== null) return `[${node.host.name}] not running`;
    const conf = await nodeMtxConf(node);
    if (!conf) return `[${node.host.name}] no mediamtx.yml under ${node.dir}`;
    const viewer = conf.paths[stream];
    const up = conf.paths[`up/${stream}`];
    const fwd = up?.forward?.map((f) => where(f.dest)).join(', ');
    out.push(`  file: ${stream} <- ${viewer?.source === 'publisher' ? 'publisher' : where(viewer?.source)} alwaysAvailable=${viewer?.alwaysAvailable}; up/${stream} <- ${where(up?.source)}${fwd === undefined ? '' : ` forward [${fwd}]`}`);
    // The internal credential: in the viewer path's loopback source, or in up/<stream>'s forward to it.
    const cred = new URL(viewer?.source?.startsWith('rtsp') ? viewer.source : (up?.forward?.[0]?.dest ?? 'rtsp://x'));
    const script = `
      const auth = 'Basic ' + Buffer.from(process.env.D_USER + ':' + process.env.D_PASS).toString('base64');
      const get = async (p) => { const r = await fetch('http://' + process.env.D_API + p, { headers: { authorization: auth }, signal: AbortSignal.timeout(5000) }); return r.ok ? r.json() : { status: r.status }; };
      process.stdout.write(JSON.stringify({ paths: await get('/v3/paths/list'), confs: await get('/v3/config/paths/list') }));`;
    const r = await t.h.exec(node.host.ns, process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, D_API: conf.apiAddress, D_USER: decodeURIComponent(cred.username), D_PASS: decodeURIComponent(cred.password) },
      timeoutMs: 10_000,
    });
    if (r.code !== 0) return `${out.join('\n')}\n  API: exit ${r.code}`;
    const { paths, confs } = JSON.parse(r.stdout) as { paths: { items?: MtxPathItem[] }; confs: { items?: Array<{ name: string; source?: string; alwaysAvailable?: boolean }> } };
    for (const c of confs.items ?? []) out.push(`  running conf ${c.name}: source ${where(c.source)} alwaysAvailable=${c.alwaysAvailable}`);
    for (const p of paths.items ?? []) {
      out.push(
        `  path ${p.name}: available=${p.available} online=${p.online} source=${p.source?.type ?? 'none'} readers=${p.readers?.length ?? 0} inboundBytes=${p.inboundBytes} tracks=${(p.tracks2 ?? []).map((x) => x.codec).join(',')}`,
      );
    }
  } catch (err) {
    out.push(`  (could not read: ${(err as Error).message.slice(0, 200)})`);
  }
  return out.join('\n');
}

/** The origin's relay view and node health, and every named node's path states. */
export async function relayDiagnostics(t: Topology, originStatus: () => Promise<unknown>, nodes: readonly string[], stream: string): Promise<string> {
  const parts: string[] = [];
  try {
    const s = (await originStatus()) as { nodes?: Array<{ name: string; health: string }>; relay?: unknown };
    parts.push(`origin: health ${JSON.stringify(s.nodes?.map((n) => `${n.name}:${n.health}`))}; relay ${JSON.stringify(s.relay)}`);
  } catch (err) {
    parts.push(`origin status: ${(err as Error).message.slice(0, 200)}`);
  }
  for (const name of nodes) {
    const node = t.havens.get(name);
    parts.push(node ? await nodePathStates(t, node, stream) : `[${name}] not started`);
  }
  return parts.join('\n');
}
