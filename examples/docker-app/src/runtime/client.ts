import { HavenError, joinHostPort, splitHostPort, type OriginConfig } from '@haven/core';
import { apiToken } from '../home/api-token.js';
import { type Loaded } from '../home/loaded.js';

/** A client for the running origin's control API (loopback, token from the state dir). */
export class ApiClient {
  constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  static async for(l: Loaded): Promise<ApiClient> {
    const listen = (l.loaded.config as OriginConfig).api.listen;
    const { host, port } = splitHostPort(listen, 0);
    return new ApiClient(`http://${joinHostPort(host, port)}`, await apiToken(l.loaded.stateDir));
  }

  /** True when the origin answers (it is running). */
  async reachable(): Promise<boolean> {
    try {
      const res = await fetch(`${this.base}/api/status`, { signal: AbortSignal.timeout(1500) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw new HavenError(`the origin's control API at ${this.base} does not answer: is \`haven start\` running?`, { code: 'NOT_STARTED', cause: err });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const msg = (json as { error?: { message?: string } } | undefined)?.error?.message ?? `${res.status} ${res.statusText}`;
      throw new HavenError(`${method} ${path}: ${msg}`, { code: 'API_ERROR', details: { status: res.status } });
    }
    return json as T;
  }
}
