/** The control API's live updates and lifecycle (start, stop, second listener, options refused), and what it does with malformed input and its own bugs. */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createControlApi } from '@haven/control';
import { waitFor } from '../helpers/process.js';
import { api, base, call, haven, useControlApi } from './control-api-harness.js';
import { quietLogger, REPORT_TOKEN, TOKEN } from './fake-deps.js';

useControlApi();

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
