import { Agent } from 'node:https';
import { readFile } from 'node:fs/promises';
import * as acme from 'acme-client';
import type { ChallengeResponder } from './challenge.js';
import type { AcmeTlsOptions } from './options.js';
import { readIfExists, writePrivateFile, type TlsStore } from './store.js';

/**
 * One issuance for an IP address with acme-client (RFC 8555): account (key kept 0600), order with an
 * `ip` identifier and the `profile` field (acme-client passes the order payload through as given; its
 * types predate profiles), http-01 through our responder, CSR with the IP in subjectAltName and no CN,
 * finalize, download. Every step is bounded by `issueTimeoutMs`; a failure says which step and what
 * the CA answered.
 */
export interface IssuedCert {
  keyPem: string;
  chainPem: string;
}

export class AcmeStepError extends Error {
  constructor(
    readonly step: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The https agent acme-client's axios uses for the directory (a private CA's root when given). */
async function configureTransport(o: AcmeTlsOptions): Promise<void> {
  // One request never outlives the issuance; acme-client retries 5xx/429 itself (Retry-After honoured).
  acme.axios.defaults.timeout = Math.min(30_000, o.issueTimeoutMs);
  if (!o.directoryCaFile) return;
  const ca = await readFile(o.directoryCaFile, 'utf8');
  acme.axios.defaults.httpsAgent = new Agent({ ca });
}

function caMessage(err: unknown): string {
  const e = err as { message?: string; response?: { status?: number; data?: { detail?: string; type?: string } } };
  const d = e.response?.data;
  if (d?.detail) return `${d.type ?? 'error'}: ${d.detail}`;
  return e.message ?? String(err);
}

/** Set when an issuance ran out of time: its remaining steps are not sent (no late order, no late finalize). */
interface Run {
  cancelled: boolean;
}

async function step<T>(r: Run, name: string, p: () => Promise<T>): Promise<T> {
  if (r.cancelled) throw new AcmeStepError('issuance', `${name}: not sent, the issuance ran out of time`);
  try {
    return await p();
  } catch (err) {
    if (err instanceof AcmeStepError) throw err;
    throw new AcmeStepError(name, `${name}: ${caMessage(err)}`, { cause: err });
  }
}

async function accountKey(store: TlsStore): Promise<Buffer> {
  const have = await readIfExists(store.accountKeyFile);
  if (have) return Buffer.from(have);
  const key = await acme.crypto.createPrivateEcdsaKey('P-256');
  await writePrivateFile(store.accountKeyFile, key.toString());
  return key;
}

export async function issueForIp(ip: string, o: AcmeTlsOptions, store: TlsStore, responder: ChallengeResponder): Promise<IssuedCert> {
  let timer: NodeJS.Timeout | undefined;
  const r: Run = { cancelled: false };
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        r.cancelled = true;
        reject(new AcmeStepError('issuance', `the ACME server did not complete the order within ${Math.round(o.issueTimeoutMs / 1000)} s (${o.directoryUrl})`));
      },
      o.issueTimeoutMs,
    );
  });
  try {
    return await Promise.race([run(r, ip, o, store, responder), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function run(r: Run, ip: string, o: AcmeTlsOptions, store: TlsStore, responder: ChallengeResponder): Promise<IssuedCert> {
  await configureTransport(o);
  const client = new acme.Client({ directoryUrl: o.directoryUrl, accountKey: await accountKey(store), backoffAttempts: 10, backoffMin: 500, backoffMax: 5_000 });
  // newAccount with the kept key: 201 the first time, 200 + Location afterwards (RFC 8555 §7.3.1).
  // Client.createAccount turns the 200 into an account update with the same payload, which a CA may
  // refuse (Pebble: "Use POST-as-GET ..."); the API layer's newAccount alone is what a renewal needs.
  const api = (client as unknown as { api: { createAccount(data: object): Promise<unknown> } }).api;
  await step(r, 'account', () => api.createAccount({ termsOfServiceAgreed: true, ...(o.email ? { contact: [`mailto:${o.email}`] } : {}) }));
  const orderReq = { identifiers: [{ type: 'ip', value: ip }], profile: o.profile } as unknown as Parameters<typeof client.createOrder>[0];
  const order = await step(r, 'order', () => client.createOrder(orderReq));
  const authzs = await step(r, 'authorizations', () => client.getAuthorizations(order));
  for (const authz of authzs) {
    if (authz.status === 'valid') continue;
    const ch = authz.challenges.find((c) => c.type === 'http-01');
    if (!ch) throw new AcmeStepError('challenge', `the CA offers no http-01 challenge for ${ip} (offered: ${authz.challenges.map((c) => c.type).join(', ')})`);
    const keyAuth = await client.getChallengeKeyAuthorization(ch);
    responder.set(ch.token, keyAuth);
    try {
      await step(r, 'challenge', () => client.completeChallenge(ch));
      await step(r, 'validation', () => client.waitForValidStatus(ch));
    } finally {
      responder.delete(ch.token);
    }
  }
  const [key, csr] = await acme.crypto.createCsr({ altNames: [ip] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
  const finalized = await step(r, 'finalize', () => client.finalizeOrder(order, csr));
  const chain = await step(r, 'download', () => client.getCertificate(finalized));
  return { keyPem: key.toString(), chainPem: chain };
}
