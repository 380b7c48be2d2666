import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface ViewerCredentials {
  user: string;
  password: string;
  /**
   * The Digest HA1, MD5(user:realm:password), in place of the password (an entry node holds only
   * this, from the origin's routing state): Digest is checked with it, Basic by hashing the given
   * password. When set, `password` is ignored.
   */
  ha1?: string;
}

/** `ok`: good credentials. `missing`: none sent (challenge). `stale`: a Digest nonce we no longer accept (challenge again). `bad`: wrong credentials. */
export type AuthResult = 'ok' | 'missing' | 'stale' | 'bad';

export interface RtspAuthOptions {
  /** Realm shown to players. Default `Stream Haven`. */
  realm?: string;
  /** How long an issued Digest nonce stays valid, ms. Default 60000. */
  nonceTtlMs?: number;
  /** Offer Basic next to Digest. Default true (MediaMTX itself only speaks Basic). */
  basic?: boolean;
  now?: () => number;
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');
const sha = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time equality of two strings (hashed first, so lengths leak nothing). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha(a), sha(b));
}

// The expected side (viewer user and password) is the same for every viewer: hash it once.
const expectedHashes = new Map<string, Buffer>();
function expectedHash(s: string): Buffer {
  let h = expectedHashes.get(s);
  if (!h) {
    if (expectedHashes.size >= 8) expectedHashes.clear();
    expectedHashes.set(s, (h = sha(s)));
  }
  return h;
}

/** `safeEqual` where `expected` is a configured value (its hash is kept; never pass viewer input there). */
export function safeEqualExpected(given: string, expected: string): boolean {
  return timingSafeEqual(sha(given), expectedHash(expected));
}

/** `key="value", key=token, ...` of a Digest header; quoted values may hold commas and escaped quotes. */
export function parseAuthParams(s: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    if (m[0] === '') break;
    out.set((m[1] as string).toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? ''));
    if (re.lastIndex >= s.length) break;
  }
  return out;
}

/**
 * Viewer authentication for the gateway's redirect path: Basic, and Digest (RFC 2617, MD5, with or
 * without `qop=auth`, as RTSP players implement it). Nonces are stateless: a timestamp and an HMAC
 * over it and the viewer's IP with a per-process key, so any number of pending challenges costs no memory.
 */
export class RtspAuthenticator {
  readonly realm: string;
  readonly #ttl: number;
  readonly #basic: boolean;
  readonly #now: () => number;
  readonly #key = randomBytes(32);

  constructor(options: RtspAuthOptions = {}) {
    this.realm = options.realm ?? 'Stream Haven';
    this.#ttl = options.nonceTtlMs ?? 60_000;
    this.#basic = options.basic ?? true;
    this.#now = options.now ?? Date.now;
  }

  #mac(ts: string, ip: string): string {
    return createHmac('sha256', this.#key).update(`${ts}|${ip}`).digest('hex').slice(0, 32);
  }

  nonce(ip: string): string {
    const ts = this.#now().toString(16);
    return `${ts}${this.#mac(ts, ip)}`;
  }

  /** `fresh`, `stale` (ours but expired) or `invalid`. */
  checkNonce(nonce: string, ip: string): 'fresh' | 'stale' | 'invalid' {
    if (!/^[0-9a-f]{33,48}$/.test(nonce)) return 'invalid';
    const ts = nonce.slice(0, -32);
    if (!safeEqual(nonce.slice(-32), this.#mac(ts, ip))) return 'invalid';
    const age = this.#now() - Number.parseInt(ts, 16);
    return age >= 0 && age <= this.#ttl ? 'fresh' : 'stale';
  }

  /**
   * `WWW-Authenticate` values, Digest first (players pick the strongest they know). `basicOnly`
   * leaves Digest out, for players that keep the scheme across a redirect (see the gateway);
   * `allowBasic: false` (config `viewer.allowBasic`) leaves Basic out.
   */
  challenge(ip: string, stale = false, basicOnly = false, allowBasic = true): string[] {
    const withBasic = this.#basic && allowBasic;
    const basic = `Basic realm="${this.realm}"`;
    if (basicOnly && withBasic) return [basic];
    const digest = `Digest realm="${this.realm}", nonce="${this.nonce(ip)}"${stale ? ', stale=TRUE' : ''}`;
    return withBasic ? [digest, basic] : [digest];
  }

  /**
   * Check a request's `Authorization`. Digest answers must name this request's URI in `uri`
   * (`requestUri`; a response computed for another URI is a replay) and carry a nonce we signed for this
   * IP within `nonceTtlMs` (older: `stale`, the player is challenged again without a failure counted).
   */
  verify(method: string, authorization: string | undefined, creds: ViewerCredentials, ip: string, requestUri?: string): AuthResult {
    if (!authorization) return 'missing';
    const sp = authorization.indexOf(' ');
    const scheme = (sp < 0 ? authorization : authorization.slice(0, sp)).toLowerCase();
    const rest = sp < 0 ? '' : authorization.slice(sp + 1).trim();
    if (scheme === 'basic') {
      if (!this.#basic) return 'bad';
      const decoded = Buffer.from(rest, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return 'bad';
      const userOk = safeEqualExpected(decoded.slice(0, colon), creds.user);
      const passOk =
        creds.ha1 !== undefined
          ? safeEqual(md5(`${creds.user}:${this.realm}:${decoded.slice(colon + 1)}`), creds.ha1)
          : safeEqualExpected(decoded.slice(colon + 1), creds.password);
      return userOk && passOk ? 'ok' : 'bad';
    }
    if (scheme !== 'digest') return 'bad';
    const p = parseAuthParams(rest);
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    if (!nonce || uri === undefined || !response) return 'bad';
    const nonceState = this.checkNonce(nonce, ip);
    if (nonceState === 'invalid') return 'stale';
    const algorithm = (p.get('algorithm') ?? 'MD5').toUpperCase();
    if (algorithm !== 'MD5') return 'bad';
    const userOk = safeEqual(p.get('username') ?? '', creds.user);
    const realmOk = (p.get('realm') ?? '') === this.realm;
    const ha1 = creds.ha1 ?? md5(`${creds.user}:${this.realm}:${creds.password}`);
    const ha2 = md5(`${method}:${uri}`);
    const qop = p.get('qop');
    const expected =
      qop === undefined || qop === ''
        ? md5(`${ha1}:${nonce}:${ha2}`)
        : md5(`${ha1}:${nonce}:${p.get('nc') ?? ''}:${p.get('cnonce') ?? ''}:${qop}:${ha2}`);
    const uriOk = requestUri === undefined || sameRequestUri(uri, requestUri);
    const ok = userOk && realmOk && uriOk && safeEqual(response.toLowerCase(), expected);
    if (!ok) return 'bad';
    return nonceState === 'stale' ? 'stale' : 'ok';
  }
}

/**
 * Digest `uri` against the request line's URI (RFC 7616 §3.4.6: they must be the same). Scheme and host
 * compare without case and a trailing `/` is ignored, as players differ there; path and query must match.
 */
export function sameRequestUri(digestUri: string, requestUri: string): boolean {
  const norm = (u: string) => {
    const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(u.trim());
    const head = m ? (m[1] as string).toLowerCase() : '';
    const rest = (m ? (m[2] as string) : u.trim()).replace(/\/+(\?|$)/, '$1');
    return head + rest;
  };
  const a = norm(digestUri);
  const b = norm(requestUri);
  if (a === b) return true;
  // Some players put only the path in `uri` (as HTTP clients do).
  const path = (u: string) => u.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '') || '/';
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(digestUri.trim()) && path(a) === path(b);
}

/** Digest `response` a client computes (used by the probe and by tests). */
export function digestResponse(o: { user: string; password: string; realm: string; nonce: string; method: string; uri: string }): string {
  return md5(`${md5(`${o.user}:${o.realm}:${o.password}`)}:${o.nonce}:${md5(`${o.method}:${o.uri}`)}`);
}
