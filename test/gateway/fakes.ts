import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { HavenEmitter, originConfigSchema, type HavenEvents } from '@haven/core';
import { createOriginRouting, type OriginRoutingDeps, type RoutingStack } from '@haven/gateway';
import { tableLocator, VIEWER } from './helpers.js';
import { GATEWAY_KEY } from '../helpers/token-key.js';

export const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=test\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n';

async function listen(srv: Server, host = '127.0.0.1', port = 0): Promise<number> {
  srv.listen(port, host);
  await once(srv, 'listening');
  return (srv.address() as { port: number }).port;
}

/** An RTSP server standing in for a node's MediaMTX: 200 with an SDP to every DESCRIBE (on `port`, default a free one). */
export async function fakeRtspNode(port = 0): Promise<{ port: number; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
        const req = buf.slice(0, i);
        buf = buf.slice(i + 4);
        requests.push(req);
        const cseq = /CSeq:\s*(\d+)/i.exec(req)?.[1] ?? '0';
        if (req.startsWith('DESCRIBE')) s.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`);
        else s.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n\r\n`);
      }
    });
  });
  const bound = await listen(srv, '127.0.0.1', port);
  return {
    port: bound,
    requests,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

/** The origin's MediaMTX stand-in: records every byte spliced to it and answers each request with 200. */
export async function recorder(): Promise<{ port: number; received: () => string; connections: number; close(): Promise<void> }> {
  let data = '';
  let connections = 0;
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      for (const m of d.toString('latin1').matchAll(/CSeq:\s*(\d+)/gi)) s.write(`RTSP/1.0 200 OK\r\nCSeq: ${m[1]}\r\nServer: recorder\r\n\r\n`);
    });
  });
  const port = await listen(srv);
  return {
    port,
    received: () => data,
    get connections() {
      return connections;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

export interface Harness {
  stack: RoutingStack;
  port: number;
  hlsPort?: number;
  routed: Array<HavenEvents['viewer:routed'][0]>;
  refused: Array<HavenEvents['viewer:refused'][0]>;
  stop(): Promise<void>;
}

/** The gateway in this process, with nodes and a splice target on loopback. 127.0.0.1 is in Paris. */
export async function harness(o: {
  nodes?: Array<{ name: string; port: number; lat: number; lon: number; hls?: string; vpnAddress?: string }>;
  splicePort?: number;
  localHls?: string;
  gateway?: Record<string, unknown>;
  health?: Record<string, unknown>;
  password?: () => string;
  /** Sign viewer tokens (with the test gateway's key). Default true. */
  tokens?: boolean;
  hls?: boolean;
  extra?: Partial<OriginRoutingDeps>;
}): Promise<Harness> {
  const config = originConfigSchema.parse({
    role: 'origin',
    region: 'us-east',
    public: { host: '127.0.0.1', rtspPort: 8554, hlsPort: 8888, bind: '127.0.0.1' },
    gateway: { stickySec: 0, ...o.gateway },
    health: { intervalMs: 60_000, freshMs: 0, ...o.health },
    nodes: (o.nodes ?? []).map((n) => ({ name: n.name, lat: n.lat, lon: n.lon, rtsp: `rtsp://127.0.0.1:${n.port}`, ...(n.hls ? { hls: n.hls } : {}), ...(n.vpnAddress ? { vpnAddress: n.vpnAddress } : {}) })),
  });
  const events = new HavenEmitter();
  const routed: Harness['routed'] = [];
  const refused: Harness['refused'] = [];
  events.on('viewer:routed', (e) => routed.push(e));
  events.on('viewer:refused', (e) => refused.push(e));
  const stack = createOriginRouting({
    config,
    secrets: () => ({ viewerPassword: o.password?.() ?? VIEWER.password }),
    ...(o.tokens === false ? {} : { tokenKey: () => GATEWAY_KEY }),
    locator: () => tableLocator({ '127.0.0.1': { lat: 48.86, lon: 2.35, country: 'FR' }, '127.0.0.2': { lat: 48.86, lon: 2.35 }, '127.0.0.3': { lat: 48.86, lon: 2.35 } }),
    media: () => ({ ...(o.splicePort ? { rtsp: `127.0.0.1:${o.splicePort}` } : {}), ...(o.localHls ? { hls: o.localHls } : {}) }),
    events,
    rtspListen: { host: '127.0.0.1', port: 0 },
    hlsListen: o.hls ? { host: '127.0.0.1', port: 0 } : false,
    ...o.extra,
  });
  for (const s of stack.list) await s.start();
  const h: Harness = {
    stack,
    port: stack.rtspGateway.address()?.port ?? 0,
    routed,
    refused,
    stop: async () => {
      for (const s of [...stack.list].reverse()) await s.stop();
    },
  };
  const hp = stack.hlsGateway?.address()?.port;
  if (hp !== undefined) h.hlsPort = hp;
  return h;
}

export const basic = (user = VIEWER.user, pass = VIEWER.password) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** Send bytes, collect everything until the server closes (or `untilMs` passes). */
export function exchange(port: number, chunks: Array<string | Buffer>, o: { localAddress?: string; gapMs?: number; untilMs?: number } = {}): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    let text = '';
    let closed = false;
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text, closed });
    }, o.untilMs ?? 5000);
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ text, closed });
    });
    s.on('connect', async () => {
      for (const c of chunks) {
        if (s.destroyed) break;
        s.write(c);
        if (o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
      }
    });
  });
}

export function statuses(text: string): number[] {
  return [...text.matchAll(/^RTSP\/1\.0 (\d{3})/gm)].map((m) => Number(m[1]));
}
