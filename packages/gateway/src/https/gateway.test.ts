import { ViewerTokenKey } from '@haven/core';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyViewerToken } from '../auth/token.js';
import { createHttpsGateway, type HttpsGateway } from './gateway.js';

// A throwaway self-signed certificate for 127.0.0.1 (openssl; the gateway only needs key + chain in one file).
function selfSigned(dir: string, cn: string): string {
  const key = path.join(dir, `${cn}.key`);
  const crt = path.join(dir, `${cn}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return `${readFileSync(key, 'utf8')}${readFileSync(crt, 'utf8')}`;
}

function get(port: number, p: string, auth?: string): Promise<{ status: number; location?: string; serial?: string; headers: import('node:http').IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: p, rejectUnauthorized: false, agent: false, headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {} }, (res) => {
      const sock = res.socket as import('node:tls').TLSSocket;
      const serial = sock.getPeerCertificate().serialNumber;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, serial, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

type GatewayOptions = Parameters<typeof createHttpsGateway>[0];

interface Started {
  gw: HttpsGateway;
  port: number;
  dir: string;
  certFile: string;
  stop(): Promise<void>;
}

/** A gateway on 127.0.0.1 with its own self-signed certificate (`cn`), the stream `live`; `o` says what the test is about. */
async function startGateway(cn: string, o: Partial<GatewayOptions> & Pick<GatewayOptions, 'viewer' | 'choose'>): Promise<Started> {
  const dir = await mkdtemp(path.join(tmpdir(), `haven-https-${cn}-`));
  const certFile = path.join(dir, 'live.pem');
  let gw: HttpsGateway;
  try {
    await writeFile(certFile, selfSigned(dir, cn), { mode: 0o600 });
    gw = createHttpsGateway({ host: '127.0.0.1', port: 0, certFile, streams: () => ['live'], tokenKey: () => new ViewerTokenKey(), ...o });
    await gw.start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    gw,
    port: gw.address()!.port,
    dir,
    certFile,
    stop: async () => {
      try {
        await gw.stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

describe('HTTPS entry gateway', () => {
  const key = new ViewerTokenKey();
  let g: Started;
  let port: number;

  beforeAll(async () => {
    g = await startGateway('one', {
      certPollMs: 100,
      viewer: () => ({ user: 'viewer', password: 'ViewerPass0123456789' }),
      choose: () => ({ node: 'node-b', hlsBase: 'https://198.51.100.3:8888/' }),
      tokenKey: () => key,
      tokenTtlSec: () => 30,
      maxAuthFailuresPerMinute: 3,
    });
    port = g.port;
  });
  afterAll(async () => g?.stop());

  it('asks for the viewer password (Basic), then answers 302 to the node with a token bound to the viewer, the stream and the node', async () => {
    const anon = await get(port, '/live/index.m3u8');
    expect(anon.status).toBe(401);
    const r = await get(port, '/live/index.m3u8', 'viewer:ViewerPass0123456789');
    expect(r.status).toBe(302);
    const loc = new URL(r.location!);
    expect(`${loc.origin}${loc.pathname}`).toBe('https://198.51.100.3:8888/live/index.m3u8');
    expect(r.location).not.toContain('ViewerPass');
    const token = loc.searchParams.get('token')!;
    expect(verifyViewerToken(key, token, { ip: '127.0.0.1', stream: 'live', node: 'node-b' })).toBe('ok');
    expect(verifyViewerToken(key, token, { ip: '127.0.0.2', stream: 'live', node: 'node-b' })).toBe('bad-signature');
    // node-b takes it while this entry's key is one it accepts (an entry of its routing state), and only then.
    const nodeB = new ViewerTokenKey();
    expect(verifyViewerToken(nodeB, token, { ip: '127.0.0.1', stream: 'live', node: 'node-b' })).toBe('unknown-signer');
    nodeB.acceptFrom(() => [key.publicKey]);
    expect(verifyViewerToken(nodeB, token, { ip: '127.0.0.1', stream: 'live', node: 'node-b' })).toBe('ok');
  });

  it('serves nothing else: other streams and media paths are 404 (media never passes the entry)', async () => {
    expect((await get(port, '/other/index.m3u8', 'viewer:ViewerPass0123456789')).status).toBe(404);
    expect((await get(port, '/live/segment1.mp4', 'viewer:ViewerPass0123456789')).status).toBe(404);
  });

  it('serves the viewer page and its scripts next to the playlist, behind the same viewer check', async () => {
    for (const p of ['/live/', '/live/player.js', '/live/hls.min.js']) {
      const anon = await get(port, p);
      expect(anon.status, p).toBe(401);
      expect(anon.body, p).not.toMatch(/hls|<html/i);
    }
    const page = await get(port, '/live/', 'viewer:ViewerPass0123456789');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    // Scripts from the page's own origin only, no inline script, no eval; requests to itself and the chosen node only.
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/connect-src 'self' https:\/\/198\.51\.100\.3:8888(;|$)/);
    expect(csp).not.toMatch(/unsafe|\*/);
    expect([...page.body.matchAll(/<script([^>]*)>/g)].map((m) => m[1])).toEqual([' src="hls.min.js"', ' src="player.js"']);
    expect(page.body).not.toMatch(/https?:\/\//);
    const player = await get(port, '/live/player.js', 'viewer:ViewerPass0123456789');
    expect(player.status).toBe(200);
    expect(player.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(player.body).toMatch(/lowLatencyMode: true/);
    expect(player.body).toMatch(/liveMaxLatencyDuration/);
    expect(player.body).toMatch(/hls\.liveSyncPosition/);
    // hls.js as this package's dependency ships it.
    const hlsJs = await get(port, '/live/hls.min.js', 'viewer:ViewerPass0123456789');
    expect(hlsJs.status).toBe(200);
    const shipped = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'), 'utf8');
    expect(hlsJs.body.length).toBeGreaterThan(100_000);
    expect(hlsJs.body).toBe(shipped);
    expect((await get(port, '/other/', 'viewer:ViewerPass0123456789')).status).toBe(404);
    expect((await get(port, '/live/hls.js', 'viewer:ViewerPass0123456789')).status).toBe(404);
  });

  it('picks up a renewed certificate file for new connections', async () => {
    const before = (await get(port, '/live/index.m3u8')).serial;
    await writeFile(`${g.certFile}.tmp`, selfSigned(g.dir, 'two'), { mode: 0o600 });
    await rename(`${g.certFile}.tmp`, g.certFile);
    g.gw.reloadCertificate();
    const after = (await get(port, '/live/index.m3u8')).serial;
    expect(after).not.toBe(before);
  });

  it('limits wrong passwords per address (429 after the budget)', async () => {
    for (let i = 0; i < 3; i++) expect((await get(port, '/live/index.m3u8', 'viewer:wrong')).status).toBe(401);
    expect((await get(port, '/live/index.m3u8', 'viewer:ViewerPass0123456789')).status).toBe(429);
  });
});

describe('HTTPS entry gateway on an entry node: the viewer checked against the HA1 alone', () => {
  let g: Started;
  let port: number;

  beforeAll(async () => {
    // What an entry node holds: no clear password, the routing state's HA1 = MD5(user:realm:password).
    const ha1 = createHash('md5').update('viewer:Stream Haven:ViewerPass0123456789').digest('hex');
    g = await startGateway('ha1', {
      viewer: () => ({ user: 'viewer', password: '', ha1 }),
      choose: () => ({ node: 'node-b', hlsBase: 'https://198.51.100.3:8888' }),
    });
    port = g.port;
  });
  afterAll(async () => g?.stop());

  it('accepts the password whose hash matches, refuses another and the empty one', async () => {
    expect((await get(port, '/live/index.m3u8', 'viewer:ViewerPass0123456789')).status).toBe(302);
    expect((await get(port, '/live/index.m3u8', 'viewer:wrong')).status).toBe(401);
    expect((await get(port, '/live/index.m3u8', 'viewer:')).status).toBe(401);
    expect((await get(port, '/live/index.m3u8', 'other:ViewerPass0123456789')).status).toBe(401);
  });
});

/** One raw request over TLS, exactly as written (no client library cleans the target); the status line's code. */
function raw(port: number, head: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => s.end(head));
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('error', reject);
    s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
  });
}

describe('HTTPS entry gateway: malformed input and its own bugs never end the process', () => {
  let g: Started;
  let port: number;
  let state: 'none' | 'held' = 'held';
  let broken = false;

  beforeAll(async () => {
    g = await startGateway('bad', {
      viewer: () => (state === 'held' ? { user: 'viewer', password: 'ViewerPass0123456789' } : undefined),
      choose: () => {
        if (broken) throw new Error('a bug in routing');
        return { node: 'node-b', hlsBase: 'https://198.51.100.3:8888' };
      },
    });
    port = g.port;
  });
  afterAll(async () => g?.stop());

  const good = () => get(port, '/live/index.m3u8', 'viewer:ViewerPass0123456789');

  it('GET /%ff/index.m3u8 is a 400 (was: URIError out of the listener), and the door keeps serving', async () => {
    expect(await raw(port, 'GET /%ff/index.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(400);
    expect((await good()).status).toBe(302);
  });

  it('the target //[/ is a 400 (was: TypeError from new URL), and the door keeps serving', async () => {
    expect(await raw(port, 'GET //[/ HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(400);
    expect(await raw(port, 'GET http://[fe80::1%25eth0]/live/index.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(400);
    expect((await good()).status).toBe(302);
  });

  it('a throw inside the door is answered 500 and the next viewer is served', async () => {
    broken = true;
    try {
      expect((await good()).status).toBe(500);
    } finally {
      broken = false;
    }
    expect((await good()).status).toBe(302);
  });

  it('without a routing state every viewer gets 503 before any credential check', async () => {
    state = 'none';
    try {
      expect((await good()).status).toBe(503);
      expect((await get(port, '/live/index.m3u8', 'viewer:wrong')).status).toBe(503);
      expect((await get(port, '/live/index.m3u8')).status).toBe(503);
    } finally {
      state = 'held';
    }
  });
});

describe('HTTPS entry gateway with no node serving the stream', () => {
  let g: Started;
  afterAll(async () => g?.stop());

  it('the viewer page is a 503 like the playlist (its policy would name no node to play from)', async () => {
    g = await startGateway('none', { viewer: () => ({ user: 'viewer', password: 'ViewerPass0123456789' }), choose: () => undefined });
    for (const p of ['/live/', '/live/index.m3u8']) {
      const r = await get(g.port, p, 'viewer:ViewerPass0123456789');
      expect(r.status, p).toBe(503);
      expect(r.body).toMatch(/no node is serving this stream/);
    }
  });
});
