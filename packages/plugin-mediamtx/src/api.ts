import type { z } from 'zod';
import { isHavenError, type HavenError } from '@haven/core';
import {
  connSchema,
  errorBodySchema,
  infoSchema,
  listSchema,
  okSchema,
  pathConfSchema,
  pathSchema,
  rtspSessionSchema,
  type MtxConn,
  type MtxInfo,
  type MtxList,
  type MtxPath,
  type MtxPathConf,
  type MtxRtspSession,
} from './api-schemas.js';
import { mtxError } from './errors.js';
import { sanitize } from './net.js';

/** Session/connection lists that can be kicked by id. */
export type KickKind = 'rtspsessions' | 'rtmpconns' | 'srtconns' | 'hlssessions';

export interface ApiClientOptions {
  /** Per-request deadline, ms. Default 5000. */
  timeoutMs?: number;
  /** Values to mask in error messages (secrets). */
  secrets?: () => ReadonlyArray<string | undefined>;
  fetch?: typeof fetch;
  /** Basic credentials sent on every call (MediaMTX checks them through the auth hook as action `api`). */
  credentials?: () => { user: string; password: string } | undefined;
}

/** HTTP status of a Control API error (0 when MediaMTX could not be reached); undefined for other errors. */
export function apiStatus(err: unknown): number | undefined {
  if (!isHavenError(err, 'API_ERROR')) return undefined;
  const s = (err as HavenError).details?.status;
  return typeof s === 'number' ? s : undefined;
}

/** Typed MediaMTX Control API v3 client. Every response is checked against its zod shape. */
export class MediaMtxApi {
  readonly baseUrl: string;
  readonly #timeoutMs: number;
  readonly #secrets: () => ReadonlyArray<string | undefined>;
  readonly #fetch: typeof fetch;
  readonly #credentials: ApiClientOptions['credentials'];

  constructor(baseUrl: string, options: ApiClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#secrets = options.secrets ?? (() => []);
    this.#fetch = options.fetch ?? fetch;
    this.#credentials = options.credentials;
  }

  info(signal?: AbortSignal): Promise<MtxInfo> {
    return this.#call('GET', '/v3/info', infoSchema, undefined, signal);
  }

  listPaths(): Promise<MtxList<MtxPath>> {
    return this.#call('GET', '/v3/paths/list?itemsPerPage=1000', listSchema(pathSchema));
  }

  /** Runtime state of one path; undefined when MediaMTX has no such path (404). */
  async getPath(name: string): Promise<MtxPath | undefined> {
    return this.#orUndefined(this.#call('GET', `/v3/paths/get/${encodeURIComponent(name)}`, pathSchema));
  }

  listPathConfs(): Promise<MtxList<MtxPathConf>> {
    return this.#call('GET', '/v3/config/paths/list?itemsPerPage=1000', listSchema(pathConfSchema));
  }

  async getPathConf(name: string): Promise<MtxPathConf | undefined> {
    return this.#orUndefined(this.#call('GET', `/v3/config/paths/get/${encodeURIComponent(name)}`, pathConfSchema));
  }

  /** Fails with 400 when the path exists. */
  async addPathConf(name: string, conf: Record<string, unknown>): Promise<void> {
    await this.#call('POST', `/v3/config/paths/add/${encodeURIComponent(name)}`, okSchema, conf);
  }

  /** Merge into an existing path config; 404 when absent. */
  async patchPathConf(name: string, conf: Record<string, unknown>): Promise<void> {
    await this.#call('PATCH', `/v3/config/paths/patch/${encodeURIComponent(name)}`, okSchema, conf);
  }

  /** Replace (or create) a path config; omitted keys fall back to pathDefaults. */
  async replacePathConf(name: string, conf: Record<string, unknown>): Promise<void> {
    await this.#call('POST', `/v3/config/paths/replace/${encodeURIComponent(name)}`, okSchema, conf);
  }

  /** Resolves false when there was no such path config. */
  async deletePathConf(name: string): Promise<boolean> {
    const r = await this.#orUndefined(this.#call('DELETE', `/v3/config/paths/delete/${encodeURIComponent(name)}`, okSchema));
    return r !== undefined;
  }

  listRtspSessions(): Promise<MtxList<MtxRtspSession>> {
    return this.#call('GET', '/v3/rtspsessions/list?itemsPerPage=1000', listSchema(rtspSessionSchema));
  }

  listRtmpConns(): Promise<MtxList<MtxConn>> {
    return this.#call('GET', '/v3/rtmpconns/list?itemsPerPage=1000', listSchema(connSchema));
  }

  listSrtConns(): Promise<MtxList<MtxConn>> {
    return this.#call('GET', '/v3/srtconns/list?itemsPerPage=1000', listSchema(connSchema));
  }

  /** Kick a session/connection. Resolves false when it is unknown (404, malformed id 400). */
  async kick(kind: KickKind, id: string): Promise<boolean> {
    try {
      await this.#call('POST', `/v3/${kind}/kick/${encodeURIComponent(id)}`, okSchema);
      return true;
    } catch (err) {
      const status = apiStatus(err);
      if (status === 404 || status === 400) return false;
      throw err;
    }
  }

  /** Kicks a session by id from whichever list holds it (RTSP, and the protocols that are on); false when none does. */
  async kickSession(id: string, on: { rtmp?: boolean; srt?: boolean; hls?: boolean }): Promise<boolean> {
    const kinds: KickKind[] = ['rtspsessions', ...(on.rtmp ? (['rtmpconns'] as const) : []), ...(on.srt ? (['srtconns'] as const) : []), ...(on.hls ? (['hlssessions'] as const) : [])];
    for (const kind of kinds) if (await this.kick(kind, id)) return true;
    return false;
  }

  async #orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
    try {
      return await p;
    } catch (err) {
      if (apiStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async #call<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown, signal?: AbortSignal): Promise<z.output<S>> {
    const endpoint = `${method} ${path.split('?')[0]}`;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let res: Response;
    try {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      const c = this.#credentials?.();
      if (c) headers.authorization = `Basic ${Buffer.from(`${c.user}:${c.password}`, 'utf8').toString('base64')}`;
      res = await this.#fetch(this.baseUrl + path, {
        method,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (err as Error).name ?? 'error';
      throw mtxError('API_ERROR', `${endpoint} failed: MediaMTX's Control API at ${this.baseUrl} is not reachable (${reason})`, {
        cause: err,
        details: { status: 0, endpoint },
      });
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = errorBodySchema.safeParse(json);
      const said = e.success ? sanitize(e.data.error, this.#secrets()) : `HTTP ${res.status}`;
      throw mtxError('API_ERROR', `${endpoint} answered ${res.status}: ${said}`, { details: { status: res.status, endpoint, error: said } });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).slice(0, 3).join('; ');
      throw mtxError('API_RESPONSE_INVALID', `${endpoint} answered a body that does not match MediaMTX v3's documented shape (${where})`, {
        details: { status: res.status, endpoint },
      });
    }
    return parsed.data as z.output<S>;
  }
}
