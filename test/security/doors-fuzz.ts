/**
 * Hostile requests for the door fuzz suite (fast-check arbitraries) and a raw client that delivers
 * them over TCP or TLS, whole or byte by byte, and gives up after a short while. The fixed cases are
 * the inputs that once ended the process.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';

/** `HAVEN_FUZZ_SEED` replays a run; else a fresh seed, printed by the suite. */
export const FUZZ_SEED = process.env.HAVEN_FUZZ_SEED ? Number(process.env.HAVEN_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
/** Runs per batch (`HAVEN_FUZZ_RUNS`); kept small so the whole suite stays well under a minute. */
export const FUZZ_RUNS = Number(process.env.HAVEN_FUZZ_RUNS ?? 25);

/** Targets that once threw inside a listener, and their relatives. */
export const FIXED_TARGETS = [
  '/%ff/index.m3u8',
  '//[/',
  '//',
  '/%',
  '/live/%ff',
  '/api/nodes/%ff',
  '/.well-known/acme-challenge/x',
  '/../../etc/passwd',
  '/live/./../index.m3u8',
  '/%2e%2e/%2e%2e/x',
  'http://[fe80::1%eth0]/live/index.m3u8',
  'http://[fe80::1%25eth0]/live/index.m3u8',
  'rtsp://viewer:pw@[fe80::1%eth0]:8554/live',
  'rtsp://[::1/live',
  '*',
  '',
  `/${'a'.repeat(9000)}`,
  '/live/index.m3u8?token=%ff&token=&token',
];

/** Host headers that once threw inside a listener, and their relatives. */
export const FIXED_HOSTS = ['[fe80::1%eth0]', '[fe80::1%eth0]:80', '[fe80::1%25eth0]', '[', '[::1', '[::ffff:127.0.0.1]', '', ':', 'h'.repeat(9000), '127.0.0.1:99999'];

const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');

const escapes = fc
  .array(fc.oneof(fc.constantFrom('%', '%f', '%ff', '%2e', '%2E', '%00', '%2f', '%25', '/', '//', '..', '.', '[', ']', '@', ':', '?', '#', '\\', ';'), fc.string({ maxLength: 6 })), { maxLength: 12 })
  .map((parts) => `/${parts.join('')}`);

const target = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...FIXED_TARGETS) },
  { weight: 3, arbitrary: escapes },
  { weight: 1, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  { weight: 1, arbitrary: fc.ipV6().map((ip) => `http://[${ip}%eth0]/live/index.m3u8`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 64 }) },
);

const authorization = fc.oneof(
  fc.string({ maxLength: 40 }).map((s) => `Basic ${b64(s)}`),
  fc.constantFrom('Basic', 'Basic !!!', 'Basic =', 'Bearer', 'Bearer a:b', 'Digest', 'Negotiate YII=', 'NTLM', 'Basic ' + b64('viewer:')),
  fc.string({ maxLength: 30 }).map((s) => `Digest username="viewer", realm="Stream Haven", nonce="${s}", uri="/live", response="${s}"`),
  fc.string({ maxLength: 60 }).map((s) => `Digest ${s}`),
  fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
  fc.constant(`Basic ${'A'.repeat(6000)}`),
);

const header = fc.oneof(
  fc.tuple(fc.constant('Host'), fc.oneof(fc.constantFrom(...FIXED_HOSTS), fc.ipV6().map((ip) => `[${ip}%lo]`), fc.string({ maxLength: 30 }))),
  fc.tuple(fc.constant('Authorization'), authorization),
  fc.tuple(fc.constantFrom('CSeq', 'Content-Length', 'Transfer-Encoding', 'X-Forwarded-For', 'User-Agent', 'Session', 'Connection', 'Expect'), fc.string({ maxLength: 20 })),
  fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 40 })),
  fc.tuple(fc.constant('X-Huge'), fc.constant('x'.repeat(20_000))),
);

export interface HostileRequest {
  bytes: Buffer;
  /** Delivered in small pieces with pauses (a slow writer). */
  slow: boolean;
}

/** A request line, headers (duplicates allowed) and maybe a body; or random bytes. */
export function hostileRequest(protocol: 'HTTP' | 'RTSP'): fc.Arbitrary<HostileRequest> {
  const text = fc
    .record({
      method: fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS', 'DESCRIBE', 'ANNOUNCE', 'SETUP', 'TEARDOWN', 'GET_PARAMETER', 'CONNECT', 'PRI'), fc.string({ maxLength: 10 })),
      target,
      version: fc.constantFrom(`${protocol}/1.0`, `${protocol}/1.1`, 'HTTP/2.0', 'RTSP/2.0', '', 'HTTP/9.9'),
      headers: fc.array(header, { maxLength: 8 }),
      body: fc.oneof(fc.constant(''), fc.string({ maxLength: 200 })),
    })
    .map(({ method, target, version, headers, body }) => {
      const head = [`${method} ${target} ${version}`, ...headers.map(([k, v]) => `${k}: ${v}`)].join('\r\n');
      return Buffer.from(`${head}\r\n\r\n${body}`, 'latin1');
    });
  const bytes = fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a));
  return fc.record({ bytes: fc.oneof({ weight: 5, arbitrary: text }, { weight: 1, arbitrary: bytes }), slow: fc.boolean() });
}

/**
 * Send `req` to `port` (over TLS when `tls`), from `localAddress`; resolves when the server closes or
 * after `waitMs`, whatever happened (resets, TLS failures are all fine: only the server's survival counts).
 */
export function deliver(port: number, req: HostileRequest, o: { tls?: boolean; localAddress?: string; waitMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    const opts = { host: '127.0.0.1', port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) };
    const write = async () => {
      if (!req.slow) return void socket.write(req.bytes);
      // A slow writer: at most 8 pieces, a few ms apart (bounded: the suite stays fast).
      const step = Math.max(1, Math.ceil(req.bytes.length / 8));
      for (let i = 0; i < req.bytes.length && !done; i += step) {
        socket.write(req.bytes.subarray(i, i + step));
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const socket: Socket = o.tls ? tlsConnect({ ...opts, rejectUnauthorized: false }, () => void write()) : connect(opts, () => void write());
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (text += d.slice(0, 4096)));
    socket.on('error', finish);
    socket.on('close', finish);
    const timer = setTimeout(finish, o.waitMs ?? 150);
  });
}

/** Status codes of every HTTP or RTSP status line in `text`. */
export function statusCodes(text: string): number[] {
  return [...text.matchAll(/(?:HTTP|RTSP)\/\d\.\d (\d{3})/g)].map((m) => Number(m[1]));
}
