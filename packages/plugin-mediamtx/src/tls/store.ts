import { webcrypto } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import * as x509 from '@peculiar/x509';

/**
 * Where the node's certificate lives: one PEM file holding the private key and the chain, mode 0600.
 * MediaMTX's `hlsServerKey` and `hlsServerCert` both point at it (Go's X509KeyPair takes the
 * CERTIFICATE blocks from one and the PRIVATE KEY block from the other), so a renewal is one atomic
 * rename. MediaMTX's certloader watches the file (fsnotify on its directory: a rename over it is a
 * Create event) and swaps the certificate for new handshakes; open connections keep theirs.
 */
export interface TlsStore {
  dir: string;
  /** Key + chain, 0600: what MediaMTX loads. */
  liveFile: string;
  /** The ACME account key, 0600. */
  accountKeyFile: string;
  /** The manager's last status (JSON, no secret), read by `haven doctor` on the node. */
  statusFile: string;
}

export function tlsStore(dir: string): TlsStore {
  return { dir, liveFile: path.join(dir, 'live.pem'), accountKeyFile: path.join(dir, 'acme-account.key'), statusFile: path.join(dir, 'status.json') };
}

/** Write `text` to `file` atomically with mode 0600 (temp file in the same directory, fsync, rename). */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await chmod(tmp, 0o600);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Install a key and chain as the live file MediaMTX serves. */
export async function installLive(store: TlsStore, keyPem: string, chainPem: string): Promise<void> {
  await writePrivateFile(store.liveFile, `${keyPem.trim()}\n${chainPem.trim()}\n`);
}

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/**
 * A self-signed stand-in for `ip`, valid a day: MediaMTX's HTTPS listener needs a certificate at start,
 * and a node must not wait for its CA to serve `rtspt` (nor restart MediaMTX when the real one comes).
 * Browsers and players refuse it; the status says the node has no CA certificate yet.
 */
export async function placeholderPem(ip: string): Promise<{ keyPem: string; certPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
    name: 'CN=stream-haven placeholder',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: ip }])],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  return { keyPem, certPem: cert.toString('pem') };
}
