import { existsSync } from 'node:fs';
import { createLogger, exposureReason, HavenEmitter, HavenError, loadConfig, type Locator, type OriginConfig, originExposure, resolveRegion, type SecretName, SecretStore, writeFileAtomic } from '@haven/core';
import { type IngestVerdict } from '@haven/ingest';
import { type RelayTreeView } from '@haven/control';
import { createOriginRouting } from '@haven/gateway';
import { DBIP_ATTRIBUTION } from '@haven/plugin-geo';
import { JOIN_BUNDLE_WARNING, makeShareCode } from '@haven/plugin-wireguard';
import { ApiClient } from '../runtime/client.js';
import { type Home, peekConfig } from '../home/home.js';
import { assertNewNode } from '../node/node-add.js';
import { warnPublicHost } from '../home/public-host.js';
import { addNodeOffline, entryFromShareCode, joinWithBundle, makeJoinBundle, removeNodeOffline } from '../node/join.js';
import { print, printJson, progress, table } from '../runtime/output.js';
import { formatRelayTree } from '../runtime/relay.js';
import { apiToken } from '../home/api-token.js';
import { loadHome, type Loaded } from '../home/loaded.js';
import { nodeTemplate, originTemplate } from '../home/template.js';
import { urlsFor } from '../runtime/urls.js';
import { readNodeTlsStatus, tlsStatusLines } from './tls-status.js';
import { printPlayers, type PlayerRow } from './players.js';
import { readRoutingFollowStatus, routingStatusLine } from '../node/routing-follow.js';
import { printVrchat, printVrchatHelp } from '../runtime/ingest-view.js';

export interface InitOptions {
  role: 'origin' | 'node';
  name?: string;
  publicHost?: string;
  region?: string;
  /** Origin: `private` (entry nodes are the front door) or `public`. */
  exposure?: 'private' | 'public';
}

/** `HAVEN_EXPOSURE` (`start --init origin` in a container takes no --exposure): private, public or unset. */
function exposureFromEnv(): 'private' | 'public' | undefined {
  const v = process.env.HAVEN_EXPOSURE?.trim();
  if (!v) return undefined;
  if (v === 'private' || v === 'public') return v;
  throw new HavenError(`HAVEN_EXPOSURE is "${v}": use private or public, or leave it unset (public until the first node, then private)`, { code: 'CONFIG_INVALID' });
}

/** Write a commented haven.yaml and create the secrets. Never overwrites an existing config. */
export async function init(home: Home, o: InitOptions): Promise<Loaded> {
  if (existsSync(home.configFile)) {
    const role = peekConfig(home).role;
    if (role !== o.role) throw new HavenError(`${home.configFile} already exists with role ${role ?? '(none)'}; it was left untouched`, { code: 'CONFIG_INVALID' });
    progress(`${home.configFile} already exists; keeping it`);
  } else {
    if (o.region !== undefined && !resolveRegion(o.region)) {
      throw new HavenError(`unknown region "${o.region}": use a name such as eu-central or us-east, or an ISO country code`, { code: 'REGION_UNKNOWN' });
    }
    const publicHost = o.publicHost ?? process.env.HAVEN_PUBLIC_HOST ?? '127.0.0.1';
    const exposure = o.exposure ?? exposureFromEnv();
    if (o.role === 'node' && !o.region) throw new HavenError('a node needs --region (e.g. eu-central, us-east, JP)', { code: 'CONFIG_INVALID' });
    const text =
      o.role === 'origin'
        ? originTemplate({ name: o.name ?? 'origin', publicHost, ...(o.region ? { region: o.region } : {}), ...(exposure ? { exposure } : {}) })
        : nodeTemplate({ name: o.name ?? 'node', region: o.region!, publicHost });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(home.dir, { recursive: true });
    await writeFileAtomic(home.configFile, text);
    progress(`wrote ${home.configFile}`);
    warnPublicHost(publicHost, o.role === 'origin' ? 'viewer URLs and join bundles' : "this node's viewer URLs");
  }
  const l = await loadHome(home);
  await SecretStore.open(l.loaded.stateDir);
  await apiToken(l.loaded.stateDir);
  progress(`secrets are in ${l.loaded.stateDir} (mode 0700; never share that folder)`);
  return l;
}

export async function printUrls(l: Loaded, json: boolean): Promise<void> {
  const u = await urlsFor(l);
  const cfg = l.loaded.config;
  const isPrivate = cfg.role === 'origin' && originExposure(cfg) === 'private';
  if (!isPrivate) warnPublicHost(cfg.public.host, 'these URLs');
  if (json) return printJson(u);
  if (cfg.role === 'node' && u.viewer.length === 0) return print(u.note);
  for (const p of u.publish) {
    print(`OBS (stream "${p.stream}"):`);
    print(`  Settings > Stream > Service: Custom`);
    print(`  Server:     ${p.obsServer}`);
    print(`  Stream Key: ${p.obsStreamKey}`);
    print(`  or SRT:     ${p.srt}`);
    print();
  }
  if (isPrivate) print(`This origin is private: viewers come in through the entry nodes below (nearest first for each region); no URL names this machine.`);
  for (const v of u.viewer) {
    print(v.entry ? `Viewers (stream "${v.stream}", entry ${v.entry}${v.region ? `, ${v.region}` : ''}):` : `Viewers (stream "${v.stream}"):`);
    print(v.quest ? `  VRChat (PC):        ${v.rtspt}` : `  VRChat (PC, Quest): ${v.rtspt}`);
    if (v.quest) print(`  VRChat (Quest):     ${v.quest}`);
    print(`  RTSP players:       ${v.rtsp}`);
    print(`  HLS:                ${v.hls}`);
    print(`  PC: rtspt is the lowest latency and plays on Quest too, but Quest cannot follow an RTSP redirect to another node.`);
    if (v.quest) {
      print(`  Quest: the https:// URL (LL-HLS) follows the entry's redirect to the nearest node and is encrypted; it needs an`);
      print(`  entry node with \`tls: acme\` (its certificate, and so its address, is listed in public Certificate Transparency logs).`);
      print(`  World players with a separate Quest URL field take the https:// one.`);
    } else {
      print(`  Quest: an https:// URL that follows redirects comes with entry nodes that have \`tls: acme\` (a private origin lists them).`);
    }
    print();
  }
  print(`VRChat world: ${u.vrchat}`);
  print();
  printVrchatHelp();
  print(`RTSP viewers prove the password with Digest (never sent in clear); HLS over http:// cannot avoid Basic on its first request, so the password crosses the network readable there. Prefer RTSP, or a node's https:// URL where one has it.`);
  process.stderr.write(`\n! ${u.note}\n`);
}

function requireOrigin(l: Loaded, what: string): OriginConfig {
  if (l.loaded.config.role !== 'origin') {
    throw new HavenError(`\`${what}\` runs on the origin, but ${l.loaded.file} has role ${l.loaded.config.role}`, { code: 'CONFIG_INVALID' });
  }
  return l.loaded.config;
}

export async function status(l: Loaded, o: { json: boolean; quiet: boolean }): Promise<number> {
  if (l.loaded.config.role !== 'origin') {
    // A node has no control API of its own: show what it is and where it reports.
    const routing = l.join ? await readRoutingFollowStatus(l.loaded.stateDir) : undefined;
    const tls = await readNodeTlsStatus(l.loaded.stateDir);
    const out = { role: 'node', name: l.loaded.config.name, joined: !!l.join, origin: l.join?.origin.endpoint, ...(routing ? { routing } : {}), ...(tls ? { tls } : {}) };
    if (!o.quiet) {
      if (o.json) printJson(out);
      else {
        print(`node "${out.name}": ${out.joined ? `joined, origin ${out.origin}` : 'not joined yet'}`);
        if (out.joined) print(routingStatusLine(routing));
        if (tls) for (const line of tlsStatusLines(tls)) print(line);
      }
    }
    return routing?.running && !routing.health.ok ? 1 : 0;
  }
  const api = await ApiClient.for(l);
  const s = await api.call<{
    state: string;
    streams: Array<{ name: string; ready: boolean; viewers: number; publisher?: { type?: string }; vrchat?: IngestVerdict }>;
    nodes: Array<{ name: string; origin: boolean; health: string; viewers: number; region?: string; rttMs?: number; reason?: string }>;
    players?: PlayerRow[];
    auth?: { basic: number; digest: number };
    attribution?: string;
    relay?: RelayTreeView;
    exposure?: { mode: 'private' | 'public'; why: string; change?: string };
    log?: { written: number; dropped: number };
  }>('GET', '/api/status');
  if (o.quiet) return s.state === 'running' ? 0 : 1;
  if (o.json) {
    printJson({ ...s, geo: DBIP_ATTRIBUTION });
    return 0;
  }
  print(`state: ${s.state}`);
  if (s.exposure) {
    print(`exposure: ${s.exposure.mode} (${s.exposure.why})${s.exposure.mode === 'private' ? ': viewers come in through the entry nodes; no URL names this machine' : ': viewers may reach this machine'}`);
    if (s.exposure.change) print(`  note: ${s.exposure.change}`);
  }
  if (s.log) print(`log: ${s.log.written} line(s) written, ${s.log.dropped} dropped${s.log.dropped > 0 ? ' (the reader of this Haven\'s stdout did not keep up; the Haven kept running)' : ''}`);
  for (const st of s.streams) {
    print(`stream ${st.name}: ${st.ready ? 'LIVE' : 'waiting for the publisher'}, ${st.viewers} viewer(s)`);
    printVrchat(st);
  }
  print();
  print(table([['node', 'health', 'viewers', 'region', 'rtt', 'note'], ...s.nodes.map((n) => [`${n.name}${n.origin ? ' (origin)' : ''}`, n.health, String(n.viewers), n.region ?? '', n.rttMs !== undefined ? `${Math.round(n.rttMs)} ms` : '', n.reason ?? ''])]));
  if (s.relay && s.relay.edges.length > 0) {
    print();
    for (const line of formatRelayTree(s.relay)) print(line);
  }
  print();
  printPlayers(s.players, s.auth);
  print(`Viewer locations: ${DBIP_ATTRIBUTION}`);
  return 0;
}

export async function nodeKeygen(home: Home, o: { region: string; name?: string; publicHost?: string; rtspPort?: number; hlsPort?: number }): Promise<void> {
  const l = existsSync(home.configFile) ? await loadHome(home) : await init(home, { role: 'node', region: o.region, ...(o.name ? { name: o.name } : {}), ...(o.publicHost ? { publicHost: o.publicHost } : {}) });
  if (l.loaded.config.role !== 'node') throw new HavenError(`${l.loaded.file} is an origin config: run \`haven node keygen\` in the node's own folder`, { code: 'CONFIG_INVALID' });
  const cfg = l.loaded.config;
  const host = o.publicHost ?? cfg.public.host;
  const h = host.includes(':') ? `[${host}]` : host;
  const code = await makeShareCode({
    stateDir: l.loaded.stateDir,
    region: o.region,
    name: o.name ?? cfg.name,
    rtsp: `rtsp://${h}:${o.rtspPort ?? cfg.public.rtspPort}`,
    hls: `http://${h}:${o.hlsPort ?? cfg.public.hlsPort}`,
  });
  progress('send this share code to the streamer (it holds no secret):');
  print(code);
}

export async function nodeAdd(l: Loaded, o: { shareCode: string; name?: string; capacity?: number; json: boolean }): Promise<void> {
  const cfg = requireOrigin(l, 'haven node add');
  const entry = entryFromShareCode({ shareCode: o.shareCode, ...(o.name ? { name: o.name } : {}), ...(o.capacity !== undefined ? { capacity: o.capacity } : {}) });
  // A node that is already there: nothing changes; `haven node bundle` prints its bundle again.
  assertNewNode(cfg, entry);
  warnPublicHost(cfg.public.host, 'the join bundle (the node dials it) and viewer URLs');
  const api = await ApiClient.for(l);
  let added = entry;
  const live = await api.reachable();
  if (live) {
    const r = await api.call<{ node: { vpnAddress?: string } }>('POST', '/api/nodes', entry);
    added = { ...entry, ...(r.node.vpnAddress ? { vpnAddress: r.node.vpnAddress } : {}) };
    progress(`node "${entry.name}" added live; new viewers near it go there once it is healthy`);
  } else {
    added = await addNodeOffline(l.loaded.file, l.plugins, l.loaded, entry);
    progress(`node "${entry.name}" written to ${l.loaded.file}; it is used when the origin starts`);
  }
  const fresh = await loadConfig(l.loaded.file, l.plugins);
  printExposureAfterAdd(cfg, fresh.config as OriginConfig, live);
  const secrets = (await SecretStore.open(fresh.stateDir)).get();
  const bundle = await makeJoinBundle(fresh, added, secrets);
  process.stderr.write(`\n! ${JOIN_BUNDLE_WARNING}\n\n`);
  if (o.json) printJson({ node: added.name, vpnAddress: added.vpnAddress, bundle });
  else {
    progress(`on the node, run:  haven node join '<the bundle below>'`);
    print(bundle);
  }
}

/**
 * The first node of an origin with `exposure` unset makes it private (`originExposure`). Said at the
 * add: a running origin keeps its gateway on the public address until the next `haven start` (viewers
 * holding its URL keep playing); URLs, the status page and the bundle are private at once.
 */
function printExposureAfterAdd(before: OriginConfig, after: OriginConfig, live: boolean): void {
  if (originExposure(before) === originExposure(after)) return;
  const why = exposureReason(after);
  if (live) {
    progress(`this origin is now private (${why}): \`haven urls\` and the status page list the entry URLs only, and the join bundle holds no viewer password`);
    progress(`its gateway still listens on the public address until the next \`haven start\`, so viewers holding its old URL keep playing; give new viewers the entry URLs`);
  } else {
    progress(`this origin is private from its next start (${why}): nothing listens on a public address, and viewers come in through the entry URLs (\`haven urls\`)`);
  }
  progress('to stay public (viewers straight to this machine), set `exposure: public` in haven.yaml');
}

export async function nodeJoin(l: Loaded, bundle: string): Promise<void> {
  const state = await joinWithBundle(l.loaded, bundle);
  progress(`joined: origin ${state.origin.endpoint}, this node is ${state.node.address} on the VPN; streams: ${state.streams.join(', ')}`);
  progress('now run `haven start`');
}

/** What a removed node still knows, and how to take it away (said by `haven node remove`). */
export function removedNodeHeld(origin: OriginConfig): string[] {
  const viewer =
    originExposure(origin) === 'public'
      ? 'it still knows the viewer password (a public origin gives it to its nodes): rotate it with `haven secrets rotate viewer-password`, then share the new viewer URLs (`haven urls`)'
      : "it still knows the viewer password's Digest verifier (a private origin gives its nodes only that, but it answers the gateways' Digest challenges): to shut it out of viewing too, `haven secrets rotate viewer-password`";
  return [
    viewer,
    'it never held the stream key. A node that joined with a bundle from before per-node credentials held the relay password: then also `haven secrets rotate relay-password` (the other nodes fetch their new credentials by themselves)',
  ];
}

export async function nodeRemove(l: Loaded, name: string): Promise<void> {
  const before = requireOrigin(l, 'haven node remove');
  const api = await ApiClient.for(l);
  if (await api.reachable()) {
    await api.call('DELETE', `/api/nodes/${encodeURIComponent(name)}`);
    progress(`node "${name}" removed live; its tunnel is closed`);
    progress(`revoked now: its own report and relay credential (the origin refuses them) and its viewer-token key (every entry drops it with the next routing state, within seconds)`);
  } else {
    await removeNodeOffline(l.loaded.file, l.plugins, name);
    progress(`node "${name}" removed from ${l.loaded.file}; its credential and viewer-token key are refused from the next \`haven start\``);
  }
  for (const line of removedNodeHeld(before)) progress(line);
  const after = (await loadConfig(l.loaded.file, l.plugins)).config as OriginConfig;
  if (originExposure(before) !== originExposure(after)) {
    progress(`this origin has no node left and \`exposure\` is unset: it is public from its next \`haven start\` (viewers straight to this machine, its address in the URLs); set \`exposure: private\` to stay private`);
  }
}

interface RouteOut {
  stream: string;
  mode: string;
  node?: string;
  reason: string;
  viewer?: { country?: string; city?: string; lat: number; lon: number };
  candidates: Array<{ node: string; health: string; load: number; distanceKm?: number }>;
}

export async function route(l: Loaded, o: { ip: string; userAgent?: string; stream?: string; json: boolean }): Promise<void> {
  const cfg = requireOrigin(l, 'haven route');
  const stream = o.stream ?? cfg.streams[0]!.name;
  const api = await ApiClient.for(l);
  let out: RouteOut;
  if (await api.reachable()) {
    out = await api.call<RouteOut>('POST', '/api/route', { ip: o.ip, stream, ...(o.userAgent ? { userAgent: o.userAgent } : {}) });
  } else {
    out = await offlineRoute(l, o.ip, o.userAgent, stream);
  }
  if (o.json) return printJson(out);
  const where = out.viewer ? `${out.viewer.city ?? '?'}, ${out.viewer.country ?? '?'} (${out.viewer.lat.toFixed(2)}, ${out.viewer.lon.toFixed(2)})` : 'unknown place';
  print(`viewer ${o.ip}: ${where}`);
  const verdict = out.mode === 'redirect' ? `redirect to ${out.node}` : out.mode === 'refuse' ? 'refused (503): no node can take the viewer' : `served by the origin${out.node && out.node !== cfg.name ? ` (best: ${out.node})` : ''}`;
  print(`→ ${verdict} (${out.reason})`);
  print(table([['candidate', 'health', 'load', 'distance'], ...out.candidates.map((c) => [c.node, c.health, String(c.load), c.distanceKm !== undefined ? `${Math.round(c.distanceKm)} km` : '?'])]));
}

/** Dry-run routing without a running origin: the configured locator and nodes, health unknown. */
async function offlineRoute(l: Loaded, ip: string, userAgent: string | undefined, stream: string): Promise<RouteOut> {
  const cfg = l.loaded.config as OriginConfig;
  const events = new HavenEmitter();
  const logger = createLogger({ level: 'silent' });
  let locator: Locator | undefined;
  const stops: Array<() => Promise<void>> = [];
  for (const plugin of l.plugins.filter((p) => p.name === 'geo' || p.name === 'csv-locator')) {
    const inst = await plugin.setup({
      options: l.loaded.pluginOptions[plugin.name] as never,
      config: cfg,
      role: 'origin',
      stateDir: l.loaded.stateDir,
      logger,
      events,
      secrets: SecretStore.fromValues({ streamKey: 'x'.repeat(12), viewerPassword: 'x'.repeat(12), relayPassword: 'x'.repeat(12) }),
      provided: { probes: [] },
    });
    await inst.start?.();
    if (inst.stop) stops.push(inst.stop.bind(inst));
    locator = inst.locator;
  }
  try {
    const stack = createOriginRouting({ config: cfg, secrets: () => ({ viewerPassword: '' }), locator: () => locator, hlsListen: false });
    const e = stack.router.explain(ip, userAgent, stream);
    const out: RouteOut = {
      stream,
      mode: e.mode,
      reason: e.reason,
      candidates: e.candidates.map((c) => ({ node: c.node, health: c.health, load: c.load, ...(c.distanceKm !== undefined ? { distanceKm: c.distanceKm } : {}) })),
    };
    if (e.node) out.node = e.node;
    if (e.location) out.viewer = e.location;
    return out;
  } finally {
    for (const s of stops) await s();
  }
}

const SECRET_NAMES: Record<string, SecretName> = { 'viewer-password': 'viewerPassword', 'stream-key': 'streamKey', 'relay-password': 'relayPassword' };

export async function rotate(l: Loaded, which: string): Promise<void> {
  const name = SECRET_NAMES[which];
  if (!name) throw new HavenError(`unknown secret "${which}": expected one of ${Object.keys(SECRET_NAMES).join(', ')}`, { code: 'CONFIG_INVALID' });
  if (l.loaded.config.role === 'node') {
    // A node follows the origin's secrets; a value rotated here would silently diverge from them.
    throw new HavenError(`secrets are rotated on the origin, not on a node: run \`haven secrets rotate ${which}\` on the origin; this node picks the new value up by itself`, {
      code: 'CONFIG_INVALID',
    });
  }
  if (l.loaded.config.role === 'origin') {
    const api = await ApiClient.for(l);
    if (await api.reachable()) {
      await api.call('POST', '/api/secrets/rotate', { name });
      progress(`${which} rotated live: new sessions need the new value (\`haven urls\`); playing viewers continue`);
      if (name === 'relayPassword') progress('every node gets a new credential of its own: each fetches it over the VPN within about 10 s (the origin knows it by its WireGuard address)');
      return;
    }
  }
  await (await SecretStore.open(l.loaded.stateDir)).rotate(name);
  progress(`${which} rotated; it is used from the next start (\`haven urls\` shows it)`);
}

