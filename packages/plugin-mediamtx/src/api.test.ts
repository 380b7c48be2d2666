import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { apiStatus, MediaMtxApi } from './api.js';

function fakeFetch(routes: Record<string, { status: number; body: unknown }>, seen: string[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    seen.push(`${init?.method ?? 'GET'} ${url.pathname}${init?.body ? ` ${String(init.body)}` : ''}`);
    const r = routes[`${init?.method ?? 'GET'} ${url.pathname}`];
    if (!r) return new Response(JSON.stringify({ status: 'error', error: 'not found' }), { status: 404 });
    return new Response(typeof r.body === 'string' ? r.body : JSON.stringify(r.body), { status: r.status });
  }) as typeof fetch;
}

const PATH = {
  name: 'live',
  confName: 'live',
  source: { type: 'rtmpConn', id: '0b6b6e7a-0000-4000-8000-000000000001' },
  ready: true,
  available: true,
  tracks: ['H264'],
  tracks2: [{ codec: 'H264', codecProps: { width: 320, height: 240 } }],
  readers: [{ type: 'rtspSession', id: 'x' }],
  inboundBytes: 1000,
  outboundBytes: 500,
};

describe('MediaMtxApi', () => {
  it('validates and returns documented shapes', async () => {
    const api = new MediaMtxApi('http://127.0.0.1:9997/', {
      fetch: fakeFetch({
        'GET /v3/info': { status: 200, body: { version: 'v1.20.1', started: '2026-01-01T00:00:00Z' } },
        'GET /v3/paths/get/live': { status: 200, body: PATH },
        'GET /v3/paths/list': { status: 200, body: { itemCount: 1, pageCount: 1, items: [PATH] } },
        'GET /v3/config/paths/list': { status: 200, body: { itemCount: 0, pageCount: 0, items: null } },
      }),
    });
    expect((await api.info()).version).toBe('v1.20.1');
    expect((await api.getPath('live'))?.tracks2?.[0]?.codec).toBe('H264');
    expect(await api.getPath('missing')).toBeUndefined();
    expect((await api.listPaths()).items).toHaveLength(1);
    expect((await api.listPathConfs()).items).toEqual([]);
  });

  it('maps error statuses to HavenError API_ERROR with the status, masking secrets', async () => {
    const api = new MediaMtxApi('http://127.0.0.1:9997', {
      secrets: () => ['TopSecret123'],
      fetch: fakeFetch({
        'POST /v3/config/paths/add/live': { status: 400, body: { status: 'error', error: 'invalid source rtsp://relay:TopSecret123@h/live' } },
        'POST /v3/rtspsessions/kick/abc': { status: 400, body: { status: 'error', error: 'invalid uuid' } },
        'POST /v3/rtmpconns/kick/ok': { status: 200, body: { status: 'ok' } },
        'GET /v3/info': { status: 500, body: 'oops' },
      }),
    });
    const err = await api.addPathConf('live', { source: 'x' }).catch((e: unknown) => e);
    expect(apiStatus(err)).toBe(400);
    expect(String(err)).toMatch(/^HavenError: \[haven\/mediamtx\] POST \/v3\/config\/paths\/add\/live answered 400/);
    expect(String(err)).not.toContain('TopSecret123');
    expect(await api.kick('rtspsessions', 'abc')).toBe(false);
    expect(await api.kick('srtconns', 'nope')).toBe(false);
    expect(await api.kick('rtmpconns', 'ok')).toBe(true);
    expect(apiStatus(await api.info().catch((e: unknown) => e))).toBe(500);
  });

  it('rejects bodies that do not match the shape', async () => {
    const api = new MediaMtxApi('http://127.0.0.1:9997', { fetch: fakeFetch({ 'GET /v3/paths/get/live': { status: 200, body: { name: 5 } } }) });
    await expect(api.getPath('live')).rejects.toMatchObject({ code: 'API_RESPONSE_INVALID' });
  });

  it('reports an unreachable API with status 0', async () => {
    const srv = createServer().listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const { port } = srv.address() as AddressInfo;
    await new Promise((r) => srv.close(r));
    const api = new MediaMtxApi(`http://127.0.0.1:${port}`, { timeoutMs: 2000 });
    const err = await api.info().catch((e: unknown) => e);
    expect(apiStatus(err)).toBe(0);
    expect(String(err)).toMatch(/not reachable \(ECONNREFUSED\)/);
  });

  it('sends path configs as JSON', async () => {
    const seen: string[] = [];
    const api = new MediaMtxApi('http://127.0.0.1:9997', { fetch: fakeFetch({ 'POST /v3/config/paths/replace/live': { status: 200, body: { status: 'ok' } }, 'DELETE /v3/config/paths/delete/old': { status: 200, body: { status: 'ok' } } }, seen) });
    await api.replacePathConf('live', { source: 'publisher' });
    expect(await api.deletePathConf('old')).toBe(true);
    expect(await api.deletePathConf('gone')).toBe(false);
    expect(seen[0]).toBe('POST /v3/config/paths/replace/live {"source":"publisher"}');
  });
});
