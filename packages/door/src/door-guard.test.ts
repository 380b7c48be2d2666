import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BadInput, decodeComponent, guardRequestListener, parseRequestTarget, requestLineForLog, requestTargetForLog } from './door-guard.js';

function recorder() {
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  return { lines, logger: { error: (obj: object, msg: string) => void lines.push({ obj: obj as Record<string, unknown>, msg }), debug: () => undefined } };
}

const raw = (port: number, head: string) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.end(head));
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('error', reject);
    s.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
  });

describe('door guard', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  async function serve(handler: Parameters<typeof guardRequestListener>[1], log = recorder()) {
    server = createServer(guardRequestListener({ door: 'test door', logger: log.logger }, handler)).listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as AddressInfo).port, log };
  }

  it('BadInput is answered with its status and message; nothing is logged as a fault', async () => {
    const { port, log } = await serve((req) => {
      decodeComponent((req.url ?? '').slice(1));
      throw new Error('not reached');
    });
    const r = await raw(port, 'GET /%ff HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(r.status).toBe(400);
    expect(r.text).toContain('malformed %-escape');
    expect(log.lines).toEqual([]);
  });

  it('a sync throw and an async rejection are logged with the stack and the request line without query or secrets, answered 500, and the server keeps serving', async () => {
    let n = 0;
    const { port, log } = await serve(async (_req, res) => {
      n++;
      if (n === 1) throw new TypeError('sync-ish bug');
      if (n === 2) await Promise.reject(new RangeError('async bug'));
      res.end('ok');
    });
    const a = await raw(port, 'GET /live/index.m3u8?token=SECRET-TOKEN HTTP/1.1\r\nHost: x\r\nAuthorization: Basic c2VjcmV0\r\n\r\n');
    const b = await raw(port, 'GET http://user:hunter2@x/y HTTP/1.1\r\nHost: x\r\n\r\n');
    expect([a.status, b.status]).toEqual([500, 500]);
    expect((await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status).toBe(200);
    expect(log.lines.map((l) => l.obj.request)).toEqual(['GET /live/index.m3u8 HTTP/1.1', 'GET http://x/y HTTP/1.1']);
    expect((log.lines[0]!.obj.err as Error).stack).toContain('sync-ish bug');
    const all = JSON.stringify(log.lines.map((l) => ({ ...l.obj, err: String(l.obj.err) })));
    expect(all).not.toMatch(/SECRET-TOKEN|c2VjcmV0|hunter2/);
  });

  it('a throw after the answer started closes the socket instead of answering twice', async () => {
    const { port } = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '10' });
      res.write('12345');
      throw new Error('bug mid-answer');
    });
    // Closed (the promise resolves on close) with no 500 written after the started 200.
    const r = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(r.text).not.toContain('500');
    expect((await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).text).not.toContain('500');
  });

  it('parsers: //[/ and absolute form are BadInput 400; log targets lose query, fragment, userinfo and control characters', () => {
    expect(() => parseRequestTarget('//[/')).toThrow(BadInput);
    expect(() => parseRequestTarget('http://x/')).toThrow(BadInput);
    expect(parseRequestTarget('/a/b?c=1').pathname).toBe('/a/b');
    expect(requestTargetForLog('rtsp://viewer:pw@1.2.3.4/live?token=abc#x')).toBe('rtsp://1.2.3.4/live');
    expect(requestTargetForLog('rtsp://1.2.3.4:8554/live/token=v2.abc.def.ghi/trackID=0')).toBe('rtsp://1.2.3.4:8554/live/token=[token]/trackID=0');
    expect(requestTargetForLog('/a\x00b\r\n')).toBe('/a?b??');
    expect(requestTargetForLog(`/${'a'.repeat(500)}`)).toHaveLength(201);
    expect(requestLineForLog('GET\r\n', '/x?y', 'HTTP/1.1')).toBe('GET?? /x HTTP/1.1');
  });
});
