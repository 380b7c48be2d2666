import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * One RTSP/1.0 connection as a client sees it (RFC 2326): requests with CSeq, responses matched by
 * CSeq, and interleaved `$` frames (section 10.12) counted per channel. Shared by the player
 * emulators; it decides nothing a player would decide.
 */

export interface WireResponse {
  status: number;
  /** Reason phrase of the status line. */
  reason: string;
  headers: Array<[string, string]>;
  body: string;
}

export function header(r: Pick<WireResponse, 'headers'>, name: string): string | undefined {
  const l = name.toLowerCase();
  return r.headers.find(([k]) => k.toLowerCase() === l)?.[1];
}

export function headers(r: Pick<WireResponse, 'headers'>, name: string): string[] {
  const l = name.toLowerCase();
  return r.headers.filter(([k]) => k.toLowerCase() === l).map(([, v]) => v);
}

export class RtspWire {
  readonly host: string;
  readonly port: number;
  #sock: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #cseq = 0;
  #waiting = new Map<number, (r: WireResponse) => void>();
  #closed = false;
  #onClose: Array<() => void> = [];
  /** RTP packets (even channels) received. */
  rtp = 0;
  /** `performance.now()` when the first RTP packet arrived. */
  firstRtpAt: number | undefined;
  /** Called with every interleaved frame (channel and RTP/RTCP bytes), for readers that look inside. */
  onFrame: ((channel: number, frame: Buffer) => void) | undefined;
  /** Every response, in order. */
  readonly log: WireResponse[] = [];
  /** Every request line sent (method and URI), in order. */
  readonly sent: string[] = [];
  /** How the connection ended: `server FIN`, a socket error code, or `local` (closed by this side). */
  closeCause: string | undefined;
  /** `Date.now()` of the last interleaved frame. */
  lastFrameAt: number | undefined;

  private constructor(sock: Socket, host: string, port: number) {
    this.#sock = sock;
    this.host = host;
    this.port = port;
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.#data(d));
    sock.on('end', () => {
      this.closeCause ??= 'server FIN';
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      this.closeCause ??= e.code ?? e.message;
    });
    sock.on('close', () => {
      this.#closed = true;
      for (const f of this.#onClose.splice(0)) f();
    });
  }

  static open(host: string, port: number, localAddress?: string): Promise<RtspWire> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port, ...(localAddress ? { localAddress } : {}) });
      s.once('connect', () => resolve(new RtspWire(s, host, port)));
      s.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when the connection is closed (by either side). */
  whenClosed(): Promise<void> {
    return this.#closed ? Promise.resolve() : new Promise((resolve) => this.#onClose.push(resolve));
  }

  #data(d: Buffer): void {
    this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
    for (;;) {
      if (this.#buf.length === 0) return;
      if (this.#buf[0] === 0x24) {
        if (this.#buf.length < 4) return;
        const len = this.#buf.readUInt16BE(2);
        if (this.#buf.length < 4 + len) return;
        this.lastFrameAt = Date.now();
        if ((this.#buf[1] as number) % 2 === 0) {
          this.rtp++;
          this.firstRtpAt ??= performance.now();
        }
        this.onFrame?.(this.#buf[1] as number, this.#buf.subarray(4, 4 + len));
        this.#buf = this.#buf.subarray(4 + len);
        continue;
      }
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.#buf.subarray(0, end).toString('latin1').split('\r\n');
      const hs: Array<[string, string]> = [];
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) hs.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
      }
      const len = Number(hs.find(([k]) => k.toLowerCase() === 'content-length')?.[1] ?? 0);
      if (this.#buf.length < end + 4 + len) return;
      const body = this.#buf.subarray(end + 4, end + 4 + len).toString('latin1');
      this.#buf = this.#buf.subarray(end + 4 + len);
      const line = /^RTSP\/1\.0 (\d{3}) ?(.*)$/.exec(head[0] ?? '');
      const r: WireResponse = { status: Number(line?.[1] ?? 0), reason: line?.[2] ?? '', headers: hs, body };
      this.log.push(r);
      const cseq = Number(header(r, 'cseq'));
      const w = this.#waiting.get(cseq);
      this.#waiting.delete(cseq);
      w?.(r);
    }
  }

  /** Send a request and wait for its response (rejects if the server closes first or after `timeoutMs`). */
  request(method: string, uri: string, extra: Array<[string, string]> = [], timeoutMs = 10_000): Promise<WireResponse> {
    const cseq = ++this.#cseq;
    let text = `${method} ${uri} RTSP/1.0\r\nCSeq: ${cseq}\r\n`;
    for (const [k, v] of extra) text += `${k}: ${v}\r\n`;
    this.sent.push(`${method} ${uri}`);
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new Error(`${method}: connection already closed`));
      const timer = setTimeout(() => reject(new Error(`${method} ${uri}: no answer in ${timeoutMs} ms`)), timeoutMs);
      const onClose = () => {
        clearTimeout(timer);
        reject(new Error(`${method}: server closed the connection`));
      };
      this.#onClose.push(onClose);
      this.#waiting.set(cseq, (r) => {
        clearTimeout(timer);
        this.#onClose = this.#onClose.filter((f) => f !== onClose);
        resolve(r);
      });
      this.#sock.write(`${text}\r\n`);
    });
  }

  /** Wait until `n` RTP packets arrived, the connection closed, or `ms` passed. */
  async waitRtp(n: number, ms: number): Promise<number> {
    const end = Date.now() + ms;
    while (this.rtp < n && !this.#closed && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    return this.rtp;
  }

  close(): void {
    this.closeCause ??= 'local';
    this.#sock.destroy();
  }
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** `key="v", k2=v2` parameters of a challenge. */
export function challengeParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of value.matchAll(/([A-Za-z0-9_-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g)) out[(m[1] as string).toLowerCase()] = m[2] ?? m[3] ?? '';
  return out;
}

/** RFC 2617 Digest without qop (what RTSP clients such as media3 send), or Basic. */
export function authorizationFor(challenge: string, method: string, uri: string, user: string, password: string): string {
  if (/^basic/i.test(challenge)) return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const p = challengeParams(challenge.replace(/^digest\s*/i, ''));
  const realm = p.realm ?? '';
  const nonce = p.nonce ?? '';
  const response = md5(`${md5(`${user}:${realm}:${password}`)}:${nonce}:${md5(`${method}:${uri}`)}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}"`;
}

/** Media sections of an SDP with their control attribute. */
export interface SdpMedia {
  /** `video`, `audio`... (the m= line's first word). */
  media: string;
  /** The first `a=rtpmap` encoding: `H264/90000`, `MPEG4-GENERIC/48000/2`, `opus/48000/2`... ('' when none). */
  rtpmap: string;
  /** `a=control` ('' when none). */
  control: string;
}

/** Each media section of an SDP, in order. */
export function sdpMedia(sdp: string): SdpMedia[] {
  const out: SdpMedia[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    const cur = out.at(-1);
    if (line.startsWith('m=')) out.push({ media: line.slice(2).split(' ')[0]!, rtpmap: '', control: '' });
    else if (cur && line.startsWith('a=control:')) cur.control = line.slice('a=control:'.length).trim();
    else if (cur && !cur.rtpmap && line.startsWith('a=rtpmap:')) cur.rtpmap = line.replace(/^a=rtpmap:\d+\s+/, '').trim();
  }
  return out;
}

/** The `a=control` of each media section, in order. */
export function sdpTracks(sdp: string): string[] {
  return sdpMedia(sdp).map((m) => m.control);
}

/** `rtsp://user:pass@host:port/path?q` split into its parts (user-info removed from `uri`). */
export function splitUrl(url: string): { host: string; port: number; uri: string; user?: string; password?: string } {
  const u = new URL(url.replace(/^rtspt:/, 'rtsp:'));
  const user = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.username = '';
  u.password = '';
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 554), uri: u.toString(), ...(user !== undefined ? { user } : {}), ...(password !== undefined ? { password } : {}) };
}
