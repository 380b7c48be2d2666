/** The control API's token-protected calls (control token, node-report token) and the read policy for remote addresses. */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createControlApi } from '@haven/control';
import { base, call, haven, useControlApi } from './control-api-harness.js';
import { quietLogger, REPORT_TOKEN, SECRETS, TOKEN } from './fake-deps.js';

useControlApi();

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
