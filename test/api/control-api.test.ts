import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createControlApi, type ControlApi } from '@haven/control';
import { waitFor } from '../helpers/process.js';
import { fakeHaven, quietLogger, REPORT_TOKEN, SECRETS, TOKEN, type FakeHaven } from './fake-deps.js';

let haven: FakeHaven;
let api: ControlApi;
let base: string;

interface CallOptions {
  token?: string;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
}

async function call(method: string, path: string, opts: CallOptions = {}) {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined || opts.rawBody !== undefined) {
    body = opts.rawBody ?? JSON.stringify(opts.body);
    headers['content-type'] = opts.contentType ?? 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Record<string, any>) : undefined;
  return { status: res.status, headers: res.headers, text, json: json as any };
}

beforeEach(async () => {
  haven = fakeHaven();
  api = createControlApi(haven.deps, { listen: '127.0.0.1:0', token: TOKEN, nodeReportToken: REPORT_TOKEN, logger: quietLogger(), processMetrics: false, liveDebounceMs: 20 });
  await api.start();
  base = api.url();
});

afterEach(async () => {
  await api.stop();
});

const routed = (ip: string, node: string, extra: Record<string, unknown> = {}) =>
  haven.events.emit('viewer:routed', { ip, stream: 'live', node, mode: 'redirect', reason: 'nearest', decisionMs: 1.5, userAgent: 'Lavf/60.16.100', ...extra });

describe('control API: reading', () => {
  it('GET /api/status: streams, nodes with health/viewers/load, credential-free links', async () => {
    const { status, json, headers } = await call('GET', '/api/status');
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(json.name).toBe('origin');
    expect(json.origin).toBe('origin');
    expect(json.uptimeSec).toBeGreaterThanOrEqual(64);
    expect(json.streams[0]).toMatchObject({ name: 'live', ready: true, readers: 4, viewers: 7 });
    const east = json.nodes.find((n: any) => n.name === 'us-east-1');
    expect(east).toMatchObject({ health: 'up', viewers: 4, capacity: 10, load: 0.4, rttMs: 92.5, location: { lat: 38.9, lon: -77.04 } });
    expect(json.totals).toEqual({ nodes: 2, nodesUp: 2, viewers: 7 });
    expect(json.links).toEqual([
      { node: null, stream: 'live', rtsp: 'rtsp://203.0.113.10:8554/live', hls: 'http://203.0.113.10:8888/live/index.m3u8' },
      { node: 'us-east-1', region: 'us-east', stream: 'live', rtsp: 'rtsp://198.51.100.7:8554/live', hls: 'http://198.51.100.7:8888/live/index.m3u8' },
    ]);
    expect(JSON.stringify(json)).not.toContain(SECRETS.viewerPassword);
  });

  it('GET /api/nodes and GET /api/streams', async () => {
    const nodes = await call('GET', '/api/nodes');
    expect(nodes.status).toBe(200);
    expect(nodes.json.nodes.map((n: any) => n.name)).toEqual(['origin', 'us-east-1']);
    const streams = await call('GET', '/api/streams');
    expect(streams.status).toBe(200);
    expect(streams.json.streams).toEqual([
      { name: 'live', ready: true, readers: 4, viewers: 7, bytesIn: 123456, bytesOut: 654321, tracks: ['H264', 'MPEG-4 Audio'], sourceType: 'rtmpConn' },
    ]);
  });

  it('GET /api/decisions, /api/decisions/summary and /api/viewers carry no IP', async () => {
    routed('198.51.100.23', 'us-east-1', { distanceKm: 330.4 });
    routed('203.0.113.99', 'origin', { mode: 'splice', reason: 'policy-splice', userAgent: 'VRChat/2024 (Windows)' });
    routed('192.0.2.1', 'origin', { mode: 'splice', reason: 'fallback-no-location', userAgent: undefined });
    const recent = await call('GET', '/api/decisions?limit=2');
    expect(recent.status).toBe(200);
    expect(recent.json.decisions).toHaveLength(2);
    expect(recent.json.decisions[1]).toMatchObject({ node: 'origin', mode: 'splice', reason: 'policy-splice', country: 'JP', city: 'Tokyo', player: 'VRChat' });
    const all = await call('GET', '/api/decisions');
    expect(all.json.decisions[2]).toMatchObject({ node: 'us-east-1', distanceKm: 330, player: 'Lavf', country: 'US' });

    const summary = await call('GET', '/api/decisions/summary');
    expect(summary.status).toBe(200);
    expect(summary.json).toMatchObject({
      total: 3,
      byNode: { 'us-east-1': 1, origin: 2 },
      byMode: { redirect: 1, splice: 2 },
      byCountry: { US: 1, JP: 1, unknown: 1 },
      decisionMs: { p50: 1.5, p95: 1.5, max: 1.5 },
    });

    const viewers = await call('GET', '/api/viewers');
    expect(viewers.status).toBe(200);
    expect(viewers.json.total).toBe(3);
    expect(viewers.json.places).toContainEqual({ country: 'JP', city: 'Tokyo', lat: 35.7, lon: 139.7, viewers: 1, nodes: { origin: 1 } });
    for (const body of [recent.text, all.text, summary.text, viewers.text]) {
      expect(body).not.toMatch(/198\.51\.100\.23|203\.0\.113\.99|192\.0\.2\.1/);
    }
  });

  it('answers 400 with the zod message for a bad query', async () => {
    const res = await call('GET', '/api/decisions?limit=0');
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('BAD_REQUEST');
    expect(res.json.error.message).toMatch(/^invalid query: limit: Too small: expected number to be >=1/);
  });

  it('POST /api/route: a dry run needs the token; 400 with the zod message for a bad IP; 404 for an unknown stream', async () => {
    expect((await call('POST', '/api/route', { body: { ip: '198.51.100.23' } })).status).toBe(401);
    const unknown = await call('POST', '/api/route', { token: TOKEN, body: { ip: '198.51.100.23', stream: 'nope' } });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('STREAM_UNKNOWN');
    const ok = await call('POST', '/api/route', { token: TOKEN, body: { ip: '198.51.100.23', userAgent: 'Lavf/60' } });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ stream: 'live', mode: 'redirect', node: 'us-east-1', reason: 'nearest', target: 'rtsp://198.51.100.7:8554/live' });
    expect(ok.json.candidates).toHaveLength(2);
    const bad = await call('POST', '/api/route', { token: TOKEN, body: { ip: 'not-an-ip' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe('invalid body: ip: expected an IPv4 or IPv6 address');
    expect(bad.json.error.issues).toEqual([{ path: ['ip'], message: 'expected an IPv4 or IPv6 address' }]);
  });

  it('GET /api/openapi.json is an OpenAPI 3.1 document generated from the zod schemas', async () => {
    const { status, json } = await call('GET', '/api/openapi.json');
    expect(status).toBe(200);
    expect(json.openapi).toBe('3.1.0');
    for (const p of ['/api/status', '/api/nodes', '/api/nodes/{name}', '/api/streams', '/api/decisions', '/api/decisions/summary', '/api/route', '/api/secrets/rotate', '/api/players/reset', '/api/urls', '/api/node-report', '/api/node-secrets', '/api/events', '/metrics']) {
      expect(json.paths[p], p).toBeDefined();
    }
    expect(json.paths['/api/nodes'].post.security).toEqual([{ bearer: [] }]);
    expect(json.paths['/api/nodes'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/NodeEntry' });
    expect(json.components.schemas.NodeEntry.properties.name.pattern).toBeDefined();
    expect(json.components.schemas.Node.properties.health.enum).toEqual(['up', 'down', 'unknown']);
    expect(json.components.schemas.Status.properties.nodes.items).toEqual({ $ref: '#/components/schemas/Node' });
    expect(json.paths['/api/decisions'].get.parameters[0]).toMatchObject({ name: 'limit', in: 'query' });
  });

  it('answers 404 JSON for unknown routes and 405 for a wrong method', async () => {
    const missing = await call('GET', '/api/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.error).toEqual({ code: 'NOT_FOUND', message: 'no such endpoint: GET /api/nope' });
    const wrong = await call('PUT', '/api/status', { body: {} });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
  });
});

describe('control API: token-protected calls', () => {
  const entry = { name: 'eu-west-1', lat: 53.35, lon: -6.26, rtsp: 'rtsp://192.0.2.44:8554', capacity: 5 };

  it('POST /api/nodes: 401 without the token, 400 with the zod message, 201, 409 duplicate', async () => {
    const anon = await call('POST', '/api/nodes', { body: entry });
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toBe('Bearer realm="haven"');
    expect(anon.json.error.code).toBe('UNAUTHORIZED');
    const wrong = await call('POST', '/api/nodes', { body: entry, token: `${TOKEN}x` });
    expect(wrong.status).toBe(401);
    const report = await call('POST', '/api/nodes', { body: entry, token: REPORT_TOKEN });
    expect(report.status).toBe(401);
    expect(haven.nodes.has('eu-west-1')).toBe(false);

    const bad = await call('POST', '/api/nodes', { body: { ...entry, name: 'Bad Name!' }, token: TOKEN });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe('invalid body: name: expected lowercase letters, digits and dashes (1-63 chars)');
    const noPlace = await call('POST', '/api/nodes', { body: { name: 'x', rtsp: 'rtsp://192.0.2.44:8554' }, token: TOKEN });
    expect(noPlace.status).toBe(400);
    expect(noPlace.json.error.message).toContain('region: a node needs a place');
    const extra = await call('POST', '/api/nodes', { body: { ...entry, surprise: 1 }, token: TOKEN });
    expect(extra.status).toBe(400);
    expect(extra.json.error.message).toContain('Unrecognized key: "surprise"');

    const ok = await call('POST', '/api/nodes', { body: entry, token: TOKEN });
    expect(ok.status).toBe(201);
    expect(ok.json.node).toMatchObject({ name: 'eu-west-1', health: 'unknown', viewers: 0, capacity: 5, load: 0, location: { lat: 53.35, lon: -6.26 } });
    expect(haven.nodes.has('eu-west-1')).toBe(true);

    const dup = await call('POST', '/api/nodes', { body: entry, token: TOKEN });
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe('NODE_DUPLICATE');
  });

  it('rejects bodies that are not JSON, not application/json, or too large', async () => {
    const notJson = await call('POST', '/api/nodes', { rawBody: '{"name":', token: TOKEN });
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.message).toBe('invalid body: not valid JSON');
    const form = await call('POST', '/api/nodes', { rawBody: 'name=x', contentType: 'application/x-www-form-urlencoded', token: TOKEN });
    expect(form.status).toBe(415);
    const big = await call('POST', '/api/nodes', { rawBody: JSON.stringify({ name: 'x'.repeat(70_000) }), token: TOKEN });
    expect(big.status).toBe(413);
    // A chunked body with no content-length is cut at the limit too.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/api/nodes`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write('x'.repeat(4096));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  it('DELETE /api/nodes/:name: 401, 400, 404, 200', async () => {
    expect((await call('DELETE', '/api/nodes/us-east-1')).status).toBe(401);
    expect(haven.nodes.has('us-east-1')).toBe(true);
    const bad = await call('DELETE', '/api/nodes/NOPE_', { token: TOKEN });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/^invalid node name: expected lowercase letters/);
    const missing = await call('DELETE', '/api/nodes/ghost', { token: TOKEN });
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('NODE_UNKNOWN');
    const origin = await call('DELETE', '/api/nodes/origin', { token: TOKEN });
    expect(origin.status).toBe(400);
    expect(origin.json.error.message).toBe('[haven/core] the origin cannot be removed');
    const ok = await call('DELETE', '/api/nodes/us-east-1', { token: TOKEN });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ removed: 'us-east-1' });
    expect(haven.nodes.has('us-east-1')).toBe(false);
  });

  it('POST /api/secrets/rotate: 401, 400 with the zod message, 200 without the new value', async () => {
    expect((await call('POST', '/api/secrets/rotate', { body: { name: 'viewerPassword' } })).status).toBe(401);
    const bad = await call('POST', '/api/secrets/rotate', { body: { name: 'everything' }, token: TOKEN });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe('invalid body: name: Invalid option: expected one of "streamKey"|"viewerPassword"|"relayPassword"');
    const ok = await call('POST', '/api/secrets/rotate', { body: { name: 'viewerPassword' }, token: TOKEN });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ rotated: 'viewerPassword' });
    expect(haven.rotated).toEqual(['viewerPassword']);
  });

  it('POST /api/players/reset: the token only; a learned verdict shows with its evidence in the status, then is gone', async () => {
    for (const ip of ['100.64.7.7', '100.65.9.9', '2001:db8:77::1']) haven.learner.redirected(ip, 'VRChat/1', 'us-east-1');
    haven.learner.redirected('100.72.1.1', 'Lavf/60', 'us-east-1');
    haven.learner.arrived('us-east-1', ['100.72.1.1']);
    haven.tick(1001);
    const before = await call('GET', '/api/status');
    const vrc = before.json.players.find((p: any) => p.userAgent === 'VRChat/1');
    expect(vrc).toMatchObject({ served: 'local', why: 'learned-local', evidence: { outcomes: 3, followed: 0, prefixes: 3 } });
    for (const net of ['100.64.7', '100.65.9', '2001:db8:77']) expect(before.text).not.toContain(net); // no viewer network shown
    expect((await call('POST', '/api/players/reset', { body: { userAgent: 'VRChat/1' } })).status).toBe(401);
    const bad = await call('POST', '/api/players/reset', { body: { userAgent: '' }, token: TOKEN });
    expect(bad.status).toBe(400);
    const one = await call('POST', '/api/players/reset', { body: { userAgent: 'VRChat/1' }, token: TOKEN });
    expect(one.json).toEqual({ cleared: 1, userAgent: 'VRChat/1' });
    const after = await call('GET', '/api/status');
    expect(after.json.players.map((p: any) => p.userAgent)).toEqual(['Lavf/60']);
    const all = await call('POST', '/api/players/reset', { body: {}, token: TOKEN });
    expect(all.json).toEqual({ cleared: 1 });
    expect((await call('GET', '/api/status')).json.players).toBeUndefined();
  });

  it('GET /api/urls: 401 without the token; publish and viewer URLs with secrets with it', async () => {
    const anon = await call('GET', '/api/urls');
    expect(anon.status).toBe(401);
    expect(anon.text).not.toContain(SECRETS.streamKey);
    const ok = await call('GET', '/api/urls', { token: TOKEN });
    expect(ok.status).toBe(200);
    expect(ok.json.viewer.user).toBe('viewer');
    expect(ok.json.viewer.links[0].rtsp).toBe(`rtsp://viewer:${SECRETS.viewerPassword}@203.0.113.10:8554/live`);
    expect(ok.json.publish[0]).toEqual({
      stream: 'live',
      rtmp: {
        url: `rtmp://203.0.113.10:1935/live?user=publisher&pass=${SECRETS.streamKey}`,
        obsServer: 'rtmp://203.0.113.10:1935',
        obsStreamKey: `live?user=publisher&pass=${SECRETS.streamKey}`,
      },
      srt: `srt://203.0.113.10:8890?streamid=publish:live:publisher:${SECRETS.streamKey}&pkt_size=1316`,
    });
  });

  it('POST /api/node-report: report token or control token; 400, 404; the report feeds the view', async () => {
    const report = { node: 'us-east-1', streams: [{ name: 'live', ready: true, readers: 9, bytesOut: 5000 }], uptimeSec: 12 };
    expect((await call('POST', '/api/node-report', { body: report })).status).toBe(401);
    expect((await call('POST', '/api/node-report', { body: report, token: 'wrong-token-wrong-token' })).status).toBe(401);
    const bad = await call('POST', '/api/node-report', { body: { ...report, streams: [{ name: 'live', ready: true, readers: -1 }] }, token: REPORT_TOKEN });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe('invalid body: streams.0.readers: Too small: expected number to be >=0');
    const ghost = await call('POST', '/api/node-report', { body: { ...report, node: 'ghost' }, token: REPORT_TOKEN });
    expect(ghost.status).toBe(404);
    const ok = await call('POST', '/api/node-report', { body: report, token: REPORT_TOKEN });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ accepted: true });
    expect((await call('POST', '/api/node-report', { body: report, token: TOKEN })).status).toBe(200);
    expect(haven.reports[0]).toEqual({ ...report, streams: [{ name: 'live', ready: true, readers: 9, bytesIn: 0, bytesOut: 5000 }] });
    const status = await call('GET', '/api/status');
    const east = status.json.nodes.find((n: any) => n.name === 'us-east-1');
    expect(east.viewers).toBe(9);
    expect(east.reportedAgoMs).toBeGreaterThanOrEqual(0);
    expect(status.json.streams[0].viewers).toBe(12);
  });

  it('GET /api/node-secrets: report token only; answers the current viewer credentials', async () => {
    expect((await call('GET', '/api/node-secrets')).status).toBe(401);
    expect((await call('GET', '/api/node-secrets', { token: 'wrong-token-wrong-token' })).status).toBe(401);
    const ok = await call('GET', '/api/node-secrets', { token: REPORT_TOKEN });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ viewerUser: 'viewer', viewerPassword: SECRETS.viewerPassword });
  });
});

describe('control API: live updates and lifecycle', () => {
  it('GET /api/events streams a snapshot on connect and after a change', async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/api/events`, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const snapshots = () => [...text.matchAll(/event: snapshot\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1]!));
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += Buffer.from(value).toString('utf8');
      }
    })().catch(() => {});
    await waitFor('first snapshot', () => snapshots().length >= 1);
    expect(snapshots()[0].status.nodes.find((n: any) => n.name === 'us-east-1').health).toBe('up');
    haven.setHealth('us-east-1', 'down');
    const down = await waitFor('snapshot with the node down', () =>
      snapshots().find((s) => s.status.nodes.find((n: any) => n.name === 'us-east-1').health === 'down'),
    );
    expect(down.status.totals.nodesUp).toBe(1);
    // stop() does not wait for live clients to leave: it ends their streams.
    await api.stop();
    await pump;
    controller.abort();
  });

  it('sends security headers and CSP on the page; stop() is safe twice and closes the port', async () => {
    const page = await call('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.text).toContain('<svg id="map"');
    expect(page.text).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    const again = await fetch(`${base}/`, { headers: { 'if-none-match': page.headers.get('etag')! } });
    expect(again.status).toBe(304);
    await api.stop();
    await api.stop();
    await expect(fetch(`${base}/api/status`)).rejects.toThrow();
  });

  it('a second listener for node reports serves only POST /api/node-report', async () => {
    const side = createControlApi(haven.deps, { listen: '127.0.0.1:0', reportListen: '127.0.0.1:0', token: TOKEN, nodeReportToken: () => REPORT_TOKEN, logger: quietLogger(), processMetrics: false });
    const { reportPort } = await side.start();
    try {
      const url = `http://127.0.0.1:${reportPort}`;
      expect((await fetch(`${url}/api/status`)).status).toBe(404);
      const res = await fetch(`${url}/api/node-report`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${REPORT_TOKEN}` },
        body: JSON.stringify({ node: 'us-east-1', streams: [] }),
      });
      expect(res.status).toBe(200);
    } finally {
      await side.stop();
    }
  });

  it('refuses weak tokens and bad listen addresses up front', () => {
    expect(() => createControlApi(haven.deps, { token: 'short', logger: quietLogger() })).toThrow('[haven/api] token: expected at least 16 characters');
    expect(() => createControlApi(haven.deps, { token: TOKEN, listen: 'nope', logger: quietLogger() })).toThrow('[haven/api] listen: expected host:port');
  });
});

describe('control API: malformed input and its own bugs', () => {
  /** One raw request, exactly as written (fetch would clean the target); status and body. */
  const raw = (head: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(base);
      const s = connect({ host: u.hostname, port: Number(u.port) }, () => s.end(head));
      let text = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (text += d));
      s.on('error', reject);
      s.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
    });

  it('a target //[/ and a malformed %-escape are 400 with a JSON error; the API keeps serving', async () => {
    const a = await raw('GET //[/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(a.status).toBe(400);
    expect(JSON.parse(a.body)).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    const b = await raw(`DELETE /api/nodes/%ff HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`);
    expect(b.status).toBe(400);
    expect(JSON.parse(b.body).error.message).toContain('%-escape');
    expect((await call('GET', '/api/status')).status).toBe(200);
  });

  it('a throw inside a route is a 500 that names no secret, and the next call is served', async () => {
    const status = haven.deps.status;
    haven.deps.status = () => {
      throw new TypeError('a bug in a route');
    };
    try {
      const r = await call('GET', `/api/status?token=${TOKEN}`);
      expect(r.status).toBe(500);
      expect(r.text).not.toContain(TOKEN);
    } finally {
      haven.deps.status = status;
    }
    expect((await call('GET', '/api/status')).status).toBe(200);
  });
});

describe('control API: readsNeedToken', () => {
  it('from an address the policy names, every read needs the token; loopback reads stay open', async () => {
    const guarded = createControlApi(haven.deps, { listen: '127.0.0.1:0', token: TOKEN, logger: quietLogger(), processMetrics: false, readsNeedToken: (ip) => ip === '127.0.0.2' });
    await guarded.start();
    try {
      const port = Number(new URL(guarded.url()).port);
      const get = (from: string, p: string, token?: string) =>
        new Promise<number>((resolve, reject) => {
          request({ host: '127.0.0.1', port, path: p, localAddress: from, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
            .on('error', reject)
            .end();
        });
      for (const p of ['/api/status', '/api/viewers', '/metrics', '/']) {
        expect(await get('127.0.0.2', p)).toBe(401);
        expect(await get('127.0.0.1', p)).toBe(200);
      }
      expect(await get('127.0.0.2', '/api/status', TOKEN)).toBe(200);
    } finally {
      await guarded.stop();
    }
  });
});
