import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** What a door logs through (a pino logger fits; `debug` is optional). */
export interface DoorLogger {
  error(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

/**
 * Every public listener (RTSP, HLS and HTTPS gateways, the ACME responder, the control API and its
 * report listener, the MediaMTX auth hook) runs its handler through this module, so malformed input
 * is a clear 4xx and a bug in one door is a logged 500, never an exception that ends the process.
 * A door signals bad input by throwing `BadInput` (or by using the parsers below, which do).
 */

/** Malformed client input: answered with `status` and `message` as they are, logged at debug only. */
export class BadInput extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'BadInput';
  }
}

export interface DoorGuardOptions {
  /** The door's name in log lines, e.g. `https entry`. */
  door: string;
  logger?: DoorLogger | undefined;
  /** What a request target looks like in a log line; default `requestTargetForLog` (no query, no userinfo). Doors whose path holds a secret pass their own. */
  target?: (target: string) => string;
  /** Writes an answer; default plain text. The control API answers JSON. */
  answer?: (res: ServerResponse, status: number, message: string) => void;
}

const MAX_LOGGED_TARGET = 200;

/**
 * A request target fit for a log line: without query or fragment (tokens travel there) and with a
 * `token=` path segment masked, without
 * userinfo (`rtsp://user:pass@host/` carries the viewer password), control characters replaced,
 * cut to 200 characters.
 */
export function requestTargetForLog(target: string | undefined): string {
  const t = (target ?? '')
    .replace(/[?#][\s\S]*$/, '')
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, '$1')
    // A redirect's Location carries the viewer token as a path segment (`/<stream>/token=<t>`).
    .replace(/\/token=[^/]*/gi, '/token=[token]');
  // eslint-disable-next-line no-control-regex
  const clean = t.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > MAX_LOGGED_TARGET ? `${clean.slice(0, MAX_LOGGED_TARGET)}…` : clean;
}

/** `METHOD target VERSION` with the target made safe for a log (see `requestTargetForLog`); no header is ever included. */
export function requestLineForLog(method: string | undefined, target: string | undefined, version: string, o?: Pick<DoorGuardOptions, 'target'>): string {
  const m = (method ?? '?').slice(0, 32).replace(/[^A-Za-z_-]/g, '?');
  return `${m} ${(o?.target ?? requestTargetForLog)(target ?? '')} ${version}`;
}

/** Log a door's own failure with its stack and the request's first line (never headers, query or userinfo). */
export function logDoorFault(o: Pick<DoorGuardOptions, 'door' | 'logger'>, err: unknown, requestLine: string | undefined, extra: Record<string, unknown> = {}): void {
  o.logger?.error({ err, door: o.door, ...(requestLine ? { request: requestLine } : {}), ...extra }, `${o.door}: request failed inside the door (a bug); answered 500, still serving`);
}

function plain(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
  res.end(`${message}\n`);
}

/**
 * Wrap an HTTP request listener (sync or async): `BadInput` becomes its 4xx; any other throw or
 * rejection is logged (`logDoorFault`) and answered 500 while nothing has been sent yet, else the
 * socket is closed. Nothing escapes to the server's event loop.
 */
export function guardRequestListener(
  o: DoorGuardOptions,
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): (req: IncomingMessage, res: ServerResponse) => void {
  const answer = o.answer ?? plain;
  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown) => {
    try {
      if (err instanceof BadInput) {
        o.logger?.debug?.({ door: o.door, status: err.status, reason: err.message }, `${o.door}: malformed request refused`);
        if (!res.headersSent) answer(res, err.status, err.message);
        else res.destroy();
        return;
      }
      logDoorFault(o, err, requestLineForLog(req.method, req.url, `HTTP/${req.httpVersion}`, o), { ip: req.socket?.remoteAddress });
      if (!res.headersSent) answer(res, 500, 'internal error: the request failed inside the server; it is logged');
      else res.destroy();
    } catch {
      // Answering failed too (socket gone, a bad header value): nothing left to tell this client.
      res.destroy();
    }
  };
  return (req, res) => {
    try {
      const out = handler(req, res);
      if (out && typeof (out as Promise<void>).catch === 'function') (out as Promise<void>).catch((err: unknown) => fail(req, res, err));
    } catch (err) {
      fail(req, res, err);
    }
  };
}

/**
 * Wrap a raw TCP connection listener (the RTSP gateway): a throw is logged and the socket closed.
 * Socket errors (resets) end the socket, never the process.
 */
export function guardConnection(o: Pick<DoorGuardOptions, 'door' | 'logger'>, handler: (socket: Socket) => void): (socket: Socket) => void {
  return (socket) => {
    socket.on('error', () => socket.destroy());
    try {
      handler(socket);
    } catch (err) {
      logDoorFault(o, err, undefined, { ip: socket.remoteAddress });
      socket.destroy();
    }
  };
}

/**
 * Wrap an event callback of a door (a socket's `data`, a timer): a throw is logged and `onFault`
 * runs (close the socket), instead of reaching the event loop.
 */
export function guardCallback<A extends unknown[]>(
  o: Pick<DoorGuardOptions, 'door' | 'logger'>,
  fn: (...args: A) => void,
  onFault: () => void,
  requestLine?: () => string | undefined,
): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args);
    } catch (err) {
      logDoorFault(o, err, requestLine?.());
      try {
        onFault();
      } catch {
        // Nothing more to do for this connection.
      }
    }
  };
}

/**
 * The path and query of an origin-form target (`/path?query`), or `BadInput` 400: parsing a target
 * is the one place `new URL` may throw on client input (`//[/`, a bad host).
 */
export function parseRequestTarget(target: string | undefined): URL {
  const t = target ?? '/';
  if (!t.startsWith('/') || t.startsWith('//')) throw new BadInput(400, 'bad request: the target must be a path such as /<stream>/index.m3u8');
  try {
    return new URL(t, 'http://door.invalid');
  } catch {
    throw new BadInput(400, 'bad request: the target is not a valid path');
  }
}

/** `decodeURIComponent`, or `BadInput` 400 on a malformed escape (`%ff`, `%`). */
export function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new BadInput(400, 'bad request: malformed %-escape in the path');
  }
}
