import { readFile } from 'node:fs/promises';
import { parseHostPort } from '@haven/core';
import { AcmeStepError, issueForIp } from './acme.js';
import { certInfo, checkCertificate, describeProblem, pemCertificates, pemPrivateKey, type CertInfo } from './cert-info.js';
import { ChallengeResponder, type ChallengeRefusal } from './challenge.js';
import type { AcmeTlsOptions, FilesTlsOptions, TlsOptions } from './options.js';
import { installLive, placeholderPem, readIfExists, tlsStore, writePrivateFile, type TlsStore } from './store.js';

export type TlsState =
  /** Serving a self-signed stand-in: no usable CA certificate yet. */
  | 'placeholder'
  /** Asking the CA (first issuance or renewal). */
  | 'issuing'
  /** Serving a CA certificate for this node's address. */
  | 'valid'
  /** The last attempt failed; `error` says why (a valid certificate may still be served). */
  | 'error';

export interface TlsStatus {
  mode: TlsOptions['mode'];
  state: TlsState;
  ip: string;
  /** The certificate being served (placeholder included). */
  certificate?: { serial: string; notBefore: string; notAfter: string; issuer: string; selfSigned: boolean };
  /** When the next renewal is due (acme). */
  renewAt?: string;
  /** What went wrong last, and what to do. */
  error?: string;
  lastIssuedAt?: string;
  /** http-01 requests refused (another token or another address), newest last. */
  challengeRefusals?: { total: number; recent: ChallengeRefusal[] };
  /** http-01 answers given to the CA (validations it made against this node). */
  challengesServed?: number;
}

export interface TlsLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  /** A failure inside the ACME responder (a bug), with its stack. */
  error(obj: object, msg: string): void;
}

export interface TlsManagerOptions {
  options: TlsOptions;
  /** The node's public address (the certificate's IP identifier). */
  ip: string;
  /** Private directory for the key, chain and account key. */
  dir: string;
  logger: TlsLogger;
  /** Clock (tests). */
  now?: () => number;
}

const HOUR = 3_600_000;

/** The challenge listener's host and port (`:80` by default; `host:0` picks a free port, in tests). */
function listenAt(address: string): { host: string; port: number } {
  const { host, port } = parseHostPort(address);
  return { host, port: port ?? 80 };
}

/**
 * Keeps a certificate for the node's IP in one private file that MediaMTX serves HLS over HTTPS with.
 * `acme`: a placeholder at once (so MediaMTX can start and rtspt never waits), then an issuance, then
 * renewals with `renewAtFractionLeft` of the lifetime left; failures retry with backoff and show in
 * `status()`, the previous certificate stays served. `files`: the operator's files, checked (SAN =
 * this IP, key matches, in validity) before they are installed; a bad file is refused with a status
 * and never replaces a good one.
 */
export class TlsManager {
  readonly store: TlsStore;
  private readonly now: () => number;
  private readonly responder: ChallengeResponder | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inflight: Promise<void> | undefined;
  private retryDelay: number;
  private st: TlsStatus;

  constructor(private readonly o: TlsManagerOptions) {
    this.store = tlsStore(o.dir);
    this.now = o.now ?? Date.now;
    this.st = { mode: o.options.mode, state: 'placeholder', ip: o.ip };
    this.retryDelay = o.options.mode === 'acme' ? o.options.retryDelayMs : 0;
    if (o.options.mode === 'acme') this.responder = new ChallengeResponder(o.ip, listenAt(o.options.challengeAddress), o.logger);
  }

  /** The file MediaMTX's `hlsServerKey`/`hlsServerCert` point at. */
  get liveFile(): string {
    return this.store.liveFile;
  }

  /** Make sure a loadable live file exists (the last good certificate, else a placeholder). Before MediaMTX starts. */
  async prepare(): Promise<void> {
    const have = await readIfExists(this.store.liveFile);
    if (have && pemPrivateKey(have) && pemCertificates(have).length > 0) {
      try {
        this.noteServed(certInfo(have));
        await this.persist();
        return;
      } catch {
        /* unreadable: replace below */
      }
    }
    const p = await placeholderPem(this.o.ip);
    await installLive(this.store, p.keyPem, p.certPem);
    this.noteServed(certInfo(p.certPem));
    await this.persist();
  }

  /** Start the responder and the schedule (after prepare). Never throws for CA trouble: that is status. */
  async start(): Promise<void> {
    this.running = true;
    if (this.responder) {
      try {
        await this.responder.start();
      } catch (err) {
        this.fail(`cannot listen for ACME http-01 challenges on ${(this.o.options as AcmeTlsOptions).challengeAddress} (${(err as Error).message}); free port 80 or set tls.challengeAddress`);
        return;
      }
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.inflight?.catch(() => undefined);
    await this.responder?.stop();
  }

  status(): TlsStatus {
    const s: TlsStatus = { ...this.st };
    if (this.responder) {
      s.challengeRefusals = { total: this.responder.refusedTotal, recent: [...this.responder.refusals] };
      s.challengesServed = this.responder.served;
    }
    return s;
  }

  /** Renew (acme) or re-read the files now, whatever the schedule says. Resolves when done. */
  async renewNow(): Promise<TlsStatus> {
    clearTimeout(this.timer);
    await this.inflight?.catch(() => undefined);
    await this.tick(true);
    return this.status();
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(false), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    this.timer.unref?.();
  }

  /** The status as a file next to the certificate, for `haven doctor`/`status` on the node (no secret in it). */
  private async persist(): Promise<void> {
    await writePrivateFile(this.store.statusFile, `${JSON.stringify({ ...this.status(), at: new Date(this.now()).toISOString() }, null, 2)}\n`).catch(() => undefined);
  }

  private tick(force: boolean): Promise<void> {
    const p = (this.o.options.mode === 'acme' ? this.acmeTick(this.o.options, force) : this.filesTick(this.o.options)).finally(async () => {
      await this.persist();
      if (this.inflight === p) this.inflight = undefined;
    });
    this.inflight = p;
    return p;
  }

  private noteServed(info: CertInfo): void {
    this.st.certificate = {
      serial: info.serial,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
      issuer: info.issuer,
      selfSigned: info.selfSigned,
    };
    if (!info.selfSigned && info.notAfter.getTime() > this.now()) {
      this.st.state = 'valid';
      if (this.o.options.mode === 'acme') {
        const life = info.notAfter.getTime() - info.notBefore.getTime();
        this.st.renewAt = new Date(info.notAfter.getTime() - life * this.o.options.renewAtFractionLeft).toISOString();
      }
    } else {
      this.st.state = 'placeholder';
    }
  }

  private fail(message: string): void {
    this.st.state = 'error';
    this.st.error = message;
    this.o.logger.warn({ tls: this.o.options.mode, ip: this.o.ip }, message);
  }

  private async acmeTick(o: AcmeTlsOptions, force: boolean): Promise<void> {
    if (!this.running && !force) return;
    const due = this.st.state !== 'valid' || !this.st.renewAt || Date.parse(this.st.renewAt) <= this.now();
    if (!due && !force) {
      this.schedule(Math.min(Date.parse(this.st.renewAt as string) - this.now(), 12 * HOUR));
      return;
    }
    const previous = this.st.state;
    this.st.state = 'issuing';
    await this.persist();
    try {
      if (!this.responder) throw new Error('no challenge responder');
      const issued = await issueForIp(this.o.ip, o, this.store, this.responder);
      const problem = checkCertificate(issued.chainPem, issued.keyPem, this.o.ip, this.now());
      if (problem) throw new AcmeStepError('check', describeProblem(problem, this.o.ip, `certificate from ${o.directoryUrl}`));
      await installLive(this.store, issued.keyPem, issued.chainPem);
      const info = certInfo(issued.chainPem);
      this.noteServed(info);
      this.st.error = undefined;
      this.st.lastIssuedAt = new Date(this.now()).toISOString();
      this.retryDelay = o.retryDelayMs;
      this.o.logger.info({ tls: 'acme', ip: this.o.ip, serial: info.serial, notAfter: info.notAfter.toISOString() }, 'TLS certificate issued');
      this.schedule(Date.parse(this.st.renewAt as string) - this.now());
    } catch (err) {
      const stepName = err instanceof AcmeStepError ? err.step : 'acme';
      const what = err instanceof Error ? err.message : String(err);
      const served = previous === 'valid' ? ' (the current certificate is still served)' : ' (HTTPS serves a self-signed placeholder until then; rtspt is unaffected)';
      this.fail(`ACME ${stepName} failed for ${this.o.ip} at ${o.directoryUrl}: ${what}; retrying in ${Math.round(this.retryDelay / 1000)} s${served}. Check that the CA reaches port 80 of ${this.o.ip} (haven doctor).`);
      this.schedule(this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, HOUR);
    }
  }

  private async filesTick(o: FilesTlsOptions): Promise<void> {
    const where = `tls.certFile ${o.certFile} / tls.keyFile ${o.keyFile}`;
    try {
      const [certPem, keyPem] = await Promise.all([readFile(o.certFile, 'utf8'), readFile(o.keyFile, 'utf8')]);
      const problem = checkCertificate(certPem, keyPem, this.o.ip, this.now());
      if (problem) {
        this.fail(`${describeProblem(problem, this.o.ip, where)} (not installed; ${this.st.certificate && !this.st.certificate.selfSigned ? 'the previous certificate is still served' : 'HTTPS serves a self-signed placeholder'})`);
      } else {
        const info = certInfo(certPem);
        if (this.st.certificate?.serial !== info.serial || this.st.state !== 'valid') {
          await installLive(this.store, pemPrivateKey(keyPem) as string, pemCertificates(certPem).join('\n'));
          this.o.logger.info({ tls: 'files', serial: info.serial, notAfter: info.notAfter.toISOString() }, 'TLS certificate installed');
        }
        this.noteServed(info);
        this.st.error = undefined;
      }
    } catch (err) {
      this.fail(`${where}: cannot read (${(err as Error).message}); check the paths and that this process may read them`);
    }
    this.schedule(o.checkIntervalMs);
  }
}
