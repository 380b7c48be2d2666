/** The control API's open reads: status, nodes, streams, decisions, viewers, the dry run, OpenAPI, 404/405. */
import { describe, expect, it } from 'vitest';
import { call, haven, useControlApi } from './control-api-harness.js';
import { SECRETS, TOKEN } from './fake-deps.js';

useControlApi();

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
