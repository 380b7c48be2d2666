import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalIp, certInfo, checkCertificate, describeProblem } from './cert-info.js';
import { ChallengeResponder } from './challenge.js';
import { TlsManager } from './manager.js';
import { tlsOptionSchema } from './options.js';
import { placeholderPem } from './store.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
const tmp = async () => {
  const d = await mkdtemp(path.join(tmpdir(), 'haven-tls-unit-'));
  dirs.push(d);
  return d;
};
async function listen(handler: Parameters<typeof createServer>[1]): Promise<number> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

describe('tls options', () => {
  it('`acme` defaults to Let\'s Encrypt, the shortlived profile, http-01 on :80, renewal at a third left', () => {
    expect(tlsOptionSchema.parse('acme')).toMatchObject({
      mode: 'acme',
      directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
      profile: 'shortlived',
      challengeAddress: ':80',
      renewAtFractionLeft: 1 / 3,
    });
    expect(() => tlsOptionSchema.parse({ mode: 'files' })).toThrow(/certFile/);
  });
});

describe('certificate checks', () => {
  it('reads the IP of the subjectAltName and refuses a certificate for another address, naming both', async () => {
    const p = await placeholderPem('203.0.113.7');
    expect(certInfo(p.certPem).ips).toEqual(['203.0.113.7']);
    expect(checkCertificate(p.certPem, p.keyPem, '203.0.113.7')).toBeUndefined();
    const wrong = checkCertificate(p.certPem, p.keyPem, '198.51.100.1');
    expect(wrong).toEqual({ problem: 'wrong-address', names: ['203.0.113.7'] });
    expect(describeProblem(wrong!, '198.51.100.1', 'tls.certFile x')).toMatch(/for 203\.0\.113\.7, not this node's address 198\.51\.100\.1/);
    const other = await placeholderPem('203.0.113.7');
    expect(checkCertificate(p.certPem, other.keyPem, '203.0.113.7')).toEqual({ problem: 'key-mismatch' });
    expect(checkCertificate('junk', 'junk', '203.0.113.7')?.problem).toBe('unreadable');
    expect(checkCertificate(p.certPem, p.keyPem, '203.0.113.7', Date.now() + 3 * 86_400_000)?.problem).toBe('expired');
  });
});

describe('http-01 responder', () => {
  it('answers the pending token for its own address only; another token or address is a counted refusal', async () => {
    const r = new ChallengeResponder('127.0.0.1', { host: '127.0.0.1', port: 0 });
    await r.start();
    try {
      r.set('tok1', 'tok1.thumb');
      const base = `http://127.0.0.1:${r.port()}/.well-known/acme-challenge/`;
      const ok = await fetch(`${base}tok1`);
      expect([ok.status, await ok.text()]).toEqual([200, 'tok1.thumb']);
      expect((await fetch(`${base}other`)).status).toBe(404);
      // Another address in Host: someone else's challenge.
      const { request } = await import('node:http');
      const status = await new Promise<number>((resolve, reject) => {
        request(`${base}tok1`, { headers: { host: '198.51.100.9' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
      expect(status).toBe(404);
      expect(r.refusedTotal).toBe(2);
      expect(r.refusals.map((x) => x.reason)).toEqual(['unknown-token', 'wrong-host']);
    } finally {
      await r.stop();
    }
  });
});

describe('http-01 responder: malformed input', () => {
  /** One raw request, exactly as written; the status code of the answer. */
  const raw = (port: number, head: string) =>
    new Promise<number>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => s.end(head));
      let text = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (text += d));
      s.on('error', reject);
      s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    });

  it('Host [fe80::1%eth0] is a wrong-host 404 (was: TypeError from new URL ending the process), and the pending token is still served', async () => {
    expect(canonicalIp('[fe80::1%eth0]')).toBe('fe80::1%eth0');
    const r = new ChallengeResponder('127.0.0.1', { host: '127.0.0.1', port: 0 });
    await r.start();
    try {
      r.set('tok1', 'tok1.thumb');
      const port = r.port()!;
      expect(await raw(port, 'GET /.well-known/acme-challenge/x HTTP/1.1\r\nHost: [fe80::1%eth0]\r\n\r\n')).toBe(404);
      expect(await raw(port, 'GET /.well-known/acme-challenge/tok1 HTTP/1.1\r\nHost: [fe80::1%eth0]:80\r\n\r\n')).toBe(404);
      expect(r.refusals.map((x) => x.reason)).toEqual(['wrong-host', 'wrong-host']);
      expect(await raw(port, 'GET /.well-known/acme-challenge/tok1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).toBe(200);
    } finally {
      await r.stop();
    }
  });
});

describe('TLS manager', () => {
  it('prepare() installs a placeholder (key and chain in one 0600 file) so HTTPS can start before any CA answers', async () => {
    const m = new TlsManager({ options: tlsOptionSchema.parse({ mode: 'files', certFile: '/nonexistent', keyFile: '/nonexistent' }), ip: '127.0.0.1', dir: await tmp(), logger: quiet });
    await m.prepare();
    expect((await stat(m.liveFile)).mode & 0o777).toBe(0o600);
    const text = await readFile(m.liveFile, 'utf8');
    expect(text).toMatch(/BEGIN PRIVATE KEY[\s\S]+BEGIN CERTIFICATE/);
    expect(m.status()).toMatchObject({ state: 'placeholder', certificate: { selfSigned: true } });
  });

  it('files: refuses a certificate for another address with a clear status and keeps serving the good one', async () => {
    const d = await tmp();
    const good = await placeholderPem('127.0.0.1');
    const bad = await placeholderPem('198.51.100.1');
    const certFile = path.join(d, 'cert.pem');
    const keyFile = path.join(d, 'key.pem');
    await writeFile(certFile, good.certPem);
    await writeFile(keyFile, good.keyPem);
    const m = new TlsManager({ options: tlsOptionSchema.parse({ mode: 'files', certFile, keyFile }), ip: '127.0.0.1', dir: path.join(d, 'tls'), logger: quiet });
    await m.prepare();
    await m.renewNow();
    const installed = await readFile(m.liveFile, 'utf8');
    expect(installed).toContain(good.certPem.trim());
    expect(m.status().error).toBeUndefined();
    await writeFile(certFile, bad.certPem);
    await writeFile(keyFile, bad.keyPem);
    const st = await m.renewNow();
    expect(st.state).toBe('error');
    expect(st.error).toMatch(/certificate is for 198\.51\.100\.1, not this node's address 127\.0\.0\.1.*not installed/);
    expect(await readFile(m.liveFile, 'utf8')).toBe(installed);
    await m.stop();
  });

  it('acme: a CA that answers with errors gives a status naming the step, the CA and the retry; the placeholder stays', async () => {
    const port = await listen((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' }).end(JSON.stringify({ type: 'urn:ietf:params:acme:error:serverInternal', detail: 'database on fire' }));
    });
    const d = await tmp();
    const o = tlsOptionSchema.parse({ mode: 'acme', directoryUrl: `http://127.0.0.1:${port}/dir`, challengeAddress: '127.0.0.1:0', issueTimeoutMs: 20_000, retryDelayMs: 60_000 });
    const m = new TlsManager({ options: o, ip: '127.0.0.1', dir: d, logger: quiet });
    await m.prepare();
    const st = await m.renewNow();
    expect(st.state).toBe('error');
    expect(st.error).toMatch(new RegExp(`ACME account failed for 127\\.0\\.0\\.1 at http://127\\.0\\.0\\.1:${port}/dir: .*retrying in 60 s \\(HTTPS serves a self-signed placeholder`));
    expect(st.error, st.error).toMatch(/returned error 503/);
    expect(st.certificate?.selfSigned).toBe(true);
    await m.stop();
  }, 60_000);

  it('acme: a CA that never answers is cut at issueTimeoutMs with a status saying so', async () => {
    const port = await listen(() => undefined); // accepts, never answers
    const o = tlsOptionSchema.parse({ mode: 'acme', directoryUrl: `http://127.0.0.1:${port}/dir`, challengeAddress: '127.0.0.1:0', issueTimeoutMs: 1_500 });
    const m = new TlsManager({ options: o, ip: '127.0.0.1', dir: await tmp(), logger: quiet });
    await m.prepare();
    const st = await m.renewNow();
    expect(st.state).toBe('error');
    expect(st.error).toMatch(/did not complete the order within 2 s/);
    await m.stop();
  });
});
