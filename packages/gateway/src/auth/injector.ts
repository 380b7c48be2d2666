import { Transform, type TransformCallback } from 'node:stream';
import { parseRequest, type RtspLimits, type RtspRequest } from '../rtsp/parser.js';

/** Rebuild a request with its Authorization header replaced (`undefined`: dropped) and, optionally, another URI. */
export function rewriteRequest(req: RtspRequest, authorization: string | undefined, uri = req.uri): Buffer {
  let head = `${req.method} ${uri} ${req.version}\r\n`;
  for (const [k, v] of req.headers) if (k.toLowerCase() !== 'authorization') head += `${k}: ${v}\r\n`;
  if (authorization !== undefined) head += `Authorization: ${authorization}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), req.body]);
}

/**
 * The viewer-to-MediaMTX half of a spliced read: every RTSP request has its Authorization replaced
 * by the gateway's own proof (`authorize(req)`), so the viewer's password (or its Digest answer to
 * the gateway's nonce) never reaches MediaMTX and MediaMTX never challenges on the public path.
 * Interleaved frames (`$`, channel, 16-bit length: RFC 2326 section 10.12) pass through untouched.
 * A request that cannot be parsed ends the connection.
 */
export class AuthInjector extends Transform {
  #buf: Buffer = Buffer.alloc(0);
  /** Bytes of an interleaved frame still to pass through. */
  #frameLeft = 0;

  constructor(
    private readonly authorize: (req: RtspRequest) => string | undefined,
    private readonly limits: RtspLimits,
    /** Rewrite each request's URI before it is authorised and forwarded (token-admitted reads). */
    private readonly mapUri?: (uri: string) => string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Buffer[] = [];
    while (this.#buf.length > 0) {
      if (this.#frameLeft > 0) {
        const n = Math.min(this.#frameLeft, this.#buf.length);
        out.push(this.#buf.subarray(0, n));
        this.#buf = this.#buf.subarray(n);
        this.#frameLeft -= n;
        continue;
      }
      if (this.#buf[0] === 0x24) {
        if (this.#buf.length < 4) break;
        this.#frameLeft = 4 + this.#buf.readUInt16BE(2);
        continue;
      }
      const r = parseRequest(this.#buf, this.limits);
      if (r.kind === 'incomplete') break;
      if (r.kind === 'error') return cb(new Error(`unparsable request on a spliced connection (${r.status})`));
      const req = this.mapUri ? { ...r.request, uri: this.mapUri(r.request.uri) } : r.request;
      out.push(rewriteRequest(req, this.authorize(req), req.uri));
      this.#buf = this.#buf.subarray(r.consumed);
    }
    cb(null, out.length === 1 ? out[0] : Buffer.concat(out));
  }
}
