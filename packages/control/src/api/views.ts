import { type HavenSecrets, isValidPoint, orderEntries } from '@haven/core';
import type { LinkView, NodeReport, NodeView, StatusView, StreamView, UrlsView } from './schemas.js';
import type { NodeInfo, StatusInfo } from './types.js';

export interface ReportEntry {
  report: NodeReport;
  /** Epoch ms it was received. */
  at: number;
}

export interface ViewContext {
  reports: ReadonlyMap<string, ReportEntry>;
  now: number;
  reportTtlMs: number;
}

const trimBase = (url: string) => url.replace(/\/+$/, '');

function freshReport(name: string, ctx: ViewContext): ReportEntry | undefined {
  const r = ctx.reports.get(name);
  return r && ctx.now - r.at <= ctx.reportTtlMs ? r : undefined;
}

export function nodeView(info: NodeInfo, ctx: ViewContext): NodeView {
  const { node } = info;
  const report = freshReport(node.name, ctx);
  const viewers = report ? report.report.streams.reduce((n, s) => n + s.readers, 0) : Math.max(0, Math.round(info.viewers ?? 0));
  const view: NodeView = {
    name: node.name,
    origin: node.origin === true,
    location: isValidPoint(node.location) ? { lat: node.location.lat, lon: node.location.lon } : null,
    rtspUrl: node.rtspUrl,
    capacity: node.capacity,
    health: info.health,
    viewers,
    load: node.capacity > 0 ? Math.round((viewers / node.capacity) * 1000) / 1000 : null,
  };
  if (node.region) view.region = node.region;
  if (node.hlsUrl) view.hlsUrl = node.hlsUrl;
  if (info.httpsUrl) view.httpsUrl = info.httpsUrl;
  if (node.vpnAddress) view.vpnAddress = node.vpnAddress;
  if (info.handshakeAgeSec !== undefined) view.handshakeAgeSec = info.handshakeAgeSec;
  if (info.lastProbe) {
    view.lastProbeAgoMs = Math.max(0, ctx.now - info.lastProbe.at);
    if (info.lastProbe.result.up) view.rttMs = Math.round(info.lastProbe.result.rttMs * 10) / 10;
    else if (info.lastProbe.result.reason) view.reason = info.lastProbe.result.reason;
  }
  if (report) view.reportedAgoMs = Math.max(0, ctx.now - report.at);
  return view;
}

/** Links without credentials: the gateway's (routes to the nearest node), then each relay node's. */
export function links(info: StatusInfo, withAuth?: string): LinkView[] {
  const auth = (url: string) => (withAuth ? url.replace(/^([a-z][a-z0-9+.-]*:\/\/)/i, `$1${withAuth}@`) : url);
  const out: LinkView[] = [];
  // A node with a certificate serves HLS over HTTPS only (its HLS port), and its HTTPS entry on 443.
  const httpsOf = new Map(info.nodes.flatMap((n) => (n.httpsUrl ? [[n.node.name, n.httpsUrl] as const] : [])));
  const add = (node: string | null, region: string | undefined, rtspBase: string, hlsBase: string | undefined, entry = false) => {
    const https = node === null ? undefined : httpsOf.get(node);
    for (const s of info.streams) {
      const link: LinkView = { node, stream: s.name, rtsp: auth(`${trimBase(rtspBase)}/${s.name}`) };
      if (region) link.region = region;
      const hls = https ?? hlsBase;
      if (hls) link.hls = auth(`${trimBase(hls)}/${s.name}/index.m3u8`);
      if (https && entry) link.quest = auth(`https://${new URL(https).host.replace(/:\d+$/, '')}/${s.name}/index.m3u8`);
      out.push(link);
    }
  };
  if (info.exposure === 'private') {
    // Entry nodes only, one "nearest" link each (its gateway sends a viewer on to the nearest node).
    for (const n of orderEntries(info.nodes.filter((x) => !x.node.origin).map((x) => x.node))) add(n.name, n.region, n.rtspUrl, n.hlsUrl, true);
    return out;
  }
  add(null, undefined, info.gateway.rtspUrl, info.gateway.hlsUrl);
  for (const n of info.nodes) if (!n.node.origin) add(n.node.name, n.node.region, n.node.rtspUrl, n.node.hlsUrl, true);
  return out;
}

export function statusView(info: StatusInfo, ctx: ViewContext): StatusView {
  const nodes = info.nodes.map((n) => nodeView(n, ctx));
  const streams: StreamView[] = info.streams.map((s) => {
    let viewers = 0;
    for (const n of info.nodes) {
      const report = freshReport(n.node.name, ctx);
      const fromReport = report?.report.streams.find((r) => r.name === s.name);
      if (fromReport) viewers += fromReport.readers;
      else if (info.streams.length === 1) viewers += nodes.find((v) => v.name === n.node.name)?.viewers ?? 0;
    }
    const view: StreamView = {
      name: s.name,
      ready: s.ready,
      readers: s.readers,
      viewers,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      tracks: s.tracks,
    };
    if (s.sourceType) view.sourceType = s.sourceType;
    if (s.vrchat && s.ready) view.vrchat = s.vrchat;
    return view;
  });
  const view: StatusView = {
    name: info.name,
    state: info.state,
    streams,
    origin: info.nodes.find((n) => n.node.origin)?.node.name ?? null,
    nodes,
    links: links(info),
    totals: {
      nodes: nodes.length,
      nodesUp: nodes.filter((n) => n.health === 'up').length,
      viewers: nodes.reduce((sum, n) => sum + n.viewers, 0),
    },
  };
  if (info.relay) view.relay = info.relay;
  if (info.exposure) view.exposure = { mode: info.exposure, why: info.exposureWhy ?? '', ...(info.exposureChange ? { change: info.exposureChange } : {}) };
  if (info.log) view.log = { written: info.log.written, dropped: info.log.dropped, writtenBytes: info.log.writtenBytes, droppedBytes: info.log.droppedBytes };
  if (info.startedAt !== undefined) view.uptimeSec = Math.max(0, Math.round((ctx.now - info.startedAt) / 1000));
  if (info.players) {
    view.players = info.players.slice(0, 100).map((p) => ({
      userAgent: p.userAgent,
      redirects: p.redirects,
      followed: p.followed,
      sameConnection: p.sameConnection,
      notFollowed: p.notFollowed,
      ...(p.followRate !== undefined ? { followRate: p.followRate } : {}),
      served: p.served,
      why: p.why,
      ...(p.evidence ? { evidence: p.evidence } : {}),
      basic: p.basic,
      digest: p.digest,
    }));
    view.auth = info.players.reduce((a, p) => ({ basic: a.basic + p.basic, digest: a.digest + p.digest }), { basic: 0, digest: 0 });
  }
  return view;
}

/** Secret-bearing URLs for `GET /api/urls` (token only). MediaMTX credential conventions. */
export function urlsView(info: StatusInfo, secrets: HavenSecrets, users: { viewer: string; publisher: string }): UrlsView {
  const enc = encodeURIComponent;
  const publish: UrlsView['publish'] = info.streams.map((s) => {
    const entry: UrlsView['publish'][number] = { stream: s.name };
    // With the audio fix on, OBS publishes to `ingest/<stream>`: the prefix goes in the Server.
    const pre = info.ingest?.pathPrefix ?? '';
    const app = pre ? `/${pre.replace(/\/$/, '')}` : '';
    if (info.ingest?.rtmp) {
      const key = `${s.name}?user=${enc(users.publisher)}&pass=${enc(secrets.streamKey)}`;
      entry.rtmp = { url: `rtmp://${info.ingest.rtmp}/${pre}${key}`, obsServer: `rtmp://${info.ingest.rtmp}${app}`, obsStreamKey: key };
    }
    if (info.ingest?.srt) {
      entry.srt = `srt://${info.ingest.srt}?streamid=publish:${pre}${s.name}:${enc(users.publisher)}:${enc(secrets.streamKey)}&pkt_size=1316`;
    }
    return entry;
  });
  return {
    viewer: {
      user: users.viewer,
      password: secrets.viewerPassword,
      links: links(info, `${enc(users.viewer)}:${enc(secrets.viewerPassword)}`),
    },
    publish,
  };
}
