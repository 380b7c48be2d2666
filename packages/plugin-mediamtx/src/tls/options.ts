import { z } from 'zod';

/** Let's Encrypt's production directory: the default CA of `tls: acme`. */
export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

const listen = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[0-9A-Za-z.-]*):\d{1,5}$/, 'expected host:port, e.g. :80 or 0.0.0.0:80');

/**
 * `tls: acme`: the node asks an ACME CA for a certificate for its public IP address (IP identifier,
 * http-01 on port 80), serves HLS over HTTPS with it and renews it with a third of its life left.
 *
 * Certificate Transparency: every certificate a public CA issues is published in CT logs, so turning
 * this on lists the node's IP address (already public: viewers connect to it) in those logs.
 */
export const acmeTlsSchema = z.strictObject({
  mode: z.literal('acme'),
  /** ACME directory URL. Default Let's Encrypt production. */
  directoryUrl: z.string().url().default(LETS_ENCRYPT_DIRECTORY),
  /**
   * Certificate profile sent in the order (draft-ietf-acme-profiles). Let's Encrypt issues IP address
   * certificates only under `shortlived` (160 hours). Default `shortlived`.
   */
  profile: z.string().min(1).default('shortlived'),
  /** Contact e-mail for the ACME account (expiry notices). Default none. */
  email: z.string().email().optional(),
  /** PEM file of a CA to trust for the ACME directory (a private or test CA). Default: the system's CAs. */
  directoryCaFile: z.string().min(1).optional(),
  /** Where the http-01 responder listens; the CA connects to port 80 of the node's address. Default `:80`. */
  challengeAddress: listen.default(':80'),
  /** Renew when this fraction of the certificate's lifetime is left. Default 1/3 (53 h of 160 h). */
  renewAtFractionLeft: z.number().gt(0).lt(1).default(1 / 3),
  /** Longest wait for one issuance (order, challenge, finalize), ms. Default 120000. */
  issueTimeoutMs: z.number().int().min(1_000).default(120_000),
  /** First retry delay after a failed issuance, doubled up to an hour, ms. Default 60000. */
  retryDelayMs: z.number().int().min(100).default(60_000),
});

/** `tls: files`: the operator's certificate and key (PEM). The certificate must name the node's IP address. */
export const filesTlsSchema = z.strictObject({
  mode: z.literal('files'),
  /** PEM certificate chain, leaf first. */
  certFile: z.string().min(1),
  /** PEM private key of the leaf. */
  keyFile: z.string().min(1),
  /** How often the files are checked for a replacement, ms. Default 60000. */
  checkIntervalMs: z.number().int().min(100).default(60_000),
});

export const tlsOptionsSchema = z.discriminatedUnion('mode', [acmeTlsSchema, filesTlsSchema]);

/** The `tls` option of the MediaMTX plugin: `'acme'` is short for `{ mode: 'acme' }`. */
export const tlsOptionSchema = z.preprocess(
  (v) => (v === 'acme' || v === 'files' ? { mode: v } : v),
  tlsOptionsSchema,
);

export type TlsOptionsInput = z.input<typeof tlsOptionsSchema> | 'acme';
export type TlsOptions = z.output<typeof tlsOptionsSchema>;
export type AcmeTlsOptions = z.output<typeof acmeTlsSchema>;
export type FilesTlsOptions = z.output<typeof filesTlsSchema>;
