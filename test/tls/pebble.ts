/**
 * Pebble (Let's Encrypt's ACME test server, built by scripts/get-pebble.sh) in its own namespace: its
 * HTTPS listener gets a certificate for its namespace address, signed by Pebble's test minica (what
 * ACME clients trust to reach the directory). Validation is real: Pebble's VA fetches the http-01
 * answer from the node's port 80 (PEBBLE_VA_NOSLEEP only drops its random 0-15 s pause;
 * PEBBLE_VA_ALWAYS_VALID is not set). The issuing root, which readers trust, comes from the
 * management API (`/roots/0`).
 */
import { existsSync, realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NetnsHarness } from '../helpers/netns.js';
import { run, waitFor, type Spawned } from '../helpers/process.js';
import { repoRoot, requireTool } from '../helpers/tools.js';

export function pebbleDir(): string {
  const cached = path.join(process.env.HAVEN_CACHE_DIR ?? path.join(repoRoot, '.cache'), 'pebble', 'current');
  if (!existsSync(path.join(cached, 'pebble'))) throw new Error('Pebble is missing: run `bash scripts/get-pebble.sh` (builds it from its Go module; scripts/setup.sh does it)');
  return realpathSync(cached);
}

export interface Pebble {
  proc: Spawned;
  directoryUrl: string;
  /** CA file for the directory's own HTTPS (Pebble's minica). */
  directoryCaFile: string;
  /** Pebble's current issuing root, PEM (from the management API). */
  rootPem: string;
  rootFile: string;
}

async function sh(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export async function startPebble(h: NetnsHarness, ns: string, ip: string, dir: string): Promise<Pebble> {
  const openssl = requireTool('openssl', 'apt-get install -y openssl');
  const pd = pebbleDir();
  const minica = path.join(pd, 'test/certs/pebble.minica.pem');
  const minicaKey = path.join(pd, 'test/certs/pebble.minica.key.pem');
  const key = path.join(dir, 'pebble-listener.key');
  const csr = path.join(dir, 'pebble-listener.csr');
  const cert = path.join(dir, 'pebble-listener.pem');
  const ext = path.join(dir, 'pebble-listener.ext');
  await sh(openssl, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=pebble']);
  await writeFile(ext, `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`);
  await sh(openssl, ['x509', '-req', '-in', csr, '-CA', minica, '-CAkey', minicaKey, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', cert]);
  const shipped = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(pd, 'test/config/pebble-config.json'), 'utf8')) as {
    pebble: Record<string, unknown> & { profiles: Record<string, unknown> };
  };
  if (!shipped.pebble.profiles.shortlived) throw new Error('this Pebble has no shortlived profile');
  const config = path.join(dir, 'pebble-config.json');
  await writeFile(
    config,
    JSON.stringify({
      pebble: {
        ...shipped.pebble,
        listenAddress: `${ip}:14000`,
        managementListenAddress: `${ip}:15000`,
        certificate: cert,
        privateKey: key,
        // The CA validates http-01 on the node's real port 80, as Let's Encrypt does.
        httpPort: 80,
        tlsPort: 443,
      },
    }),
  );
  const proc = h.spawn(ns, path.join(pd, 'pebble'), ['-config', config], { env: { ...process.env, PEBBLE_VA_NOSLEEP: '1' } });
  await waitFor('pebble listening', () => /Listening on: .*14000/.test(proc.output()) || undefined, 30_000, 100);
  await waitFor('pebble management', () => /management interface on: /.test(proc.output()) || /15000/.test(proc.output()) || undefined, 30_000, 100);
  const rootFile = path.join(dir, 'pebble-root.pem');
  const rootPem = await waitFor(
    'pebble issuing root',
    async () => {
      const r = await h.exec(ns, 'curl', ['-sS', '--cacert', minica, `https://${ip}:15000/roots/0`], { timeoutMs: 10_000 });
      return r.code === 0 && r.stdout.includes('BEGIN CERTIFICATE') ? r.stdout : undefined;
    },
    20_000,
    250,
  );
  await writeFile(rootFile, rootPem);
  return { proc, directoryUrl: `https://${ip}:14000/dir`, directoryCaFile: minica, rootPem, rootFile };
}
