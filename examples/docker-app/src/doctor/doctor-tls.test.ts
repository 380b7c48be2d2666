import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { havenConfigSchema } from '@haven/core';
import { placeholderCertificate } from '@haven/plugin-mediamtx';
import { nodeTls } from './doctor-tls.js';
import type { DoctorContext } from './findings.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function ctx(tls: unknown, role: 'node' | 'origin' = 'node'): Promise<{ c: DoctorContext; stateDir: string }> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'haven-doctor-tls-'));
  dirs.push(stateDir);
  const config = havenConfigSchema.parse(role === 'node' ? { role, region: 'eu-central', public: { host: '203.0.113.7' } } : { role });
  const l = { loaded: { config, stateDir, pluginOptions: { mediamtx: tls === undefined ? {} : { tls } } } } as unknown as DoctorContext['l'];
  return { c: { l, env: {} }, stateDir };
}

describe('haven doctor: HTTPS on a node', () => {
  it('says nothing without tls, or on an origin', async () => {
    expect(await nodeTls((await ctx(undefined)).c)).toEqual([]);
    expect(await nodeTls((await ctx({ mode: 'files', certFile: 'a', keyFile: 'b' }, 'origin')).c)).toEqual([]);
  });

  it('no certificate yet: a warning with what to do; a placeholder: a warning carrying the last error', async () => {
    const { c, stateDir } = await ctx({ mode: 'files', certFile: '/x/cert.pem', keyFile: '/x/key.pem' });
    expect(await nodeTls(c)).toEqual([expect.objectContaining({ level: 'warn', what: 'HTTPS: no certificate yet' })]);
    await mkdir(path.join(stateDir, 'tls'));
    const p = await placeholderCertificate('203.0.113.7');
    await writeFile(path.join(stateDir, 'tls', 'live.pem'), `${p.keyPem}\n${p.certPem}`);
    await writeFile(path.join(stateDir, 'tls', 'status.json'), JSON.stringify({ state: 'error', error: 'tls.certFile: the certificate is for 198.51.100.1, not this node\'s address 203.0.113.7' }));
    const [f] = await nodeTls(c);
    expect(f?.level).toBe('warn');
    expect(f?.what).toMatch(/self-signed placeholder.*198\.51\.100\.1, not this node's address 203\.0\.113\.7/);
  });
});

describe('haven status on a node: TLS lines', () => {
  it('shows the state, the expiry and the last problem and challenge refusal', async () => {
    const { tlsStatusLines } = await import('../commands/tls-status.js');
    const lines = tlsStatusLines({
      mode: 'acme',
      state: 'error',
      ip: '203.0.113.7',
      certificate: { serial: 'AB', notAfter: '2026-12-06T12:00:00.000Z', issuer: 'CN=R1', selfSigned: false },
      renewAt: '2026-12-04T12:00:00.000Z',
      error: 'ACME order failed for 203.0.113.7 at https://acme.example/dir: timeout',
      challengeRefusals: { total: 2, recent: [{ at: '2026-11-30T12:00:00.000Z', from: '198.51.100.9', reason: 'wrong-host', host: '192.0.2.1' }] },
    });
    expect(lines).toEqual([
      'HTTPS (tls: acme) for 203.0.113.7: error, certificate expires 2026-12-06T12:00:00.000Z, renewal due 2026-12-04T12:00:00.000Z',
      '  last problem: ACME order failed for 203.0.113.7 at https://acme.example/dir: timeout',
      '  2 ACME challenge request(s) refused (another token or address); last from 198.51.100.9 (wrong-host) at 2026-11-30T12:00:00.000Z',
    ]);
  });
});
