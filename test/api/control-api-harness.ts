/**
 * The control API against the fake Haven of `fake-deps.ts`, started fresh on a loopback port for each
 * test of a file that calls `useControlApi()`, and a client for it. The `control-api-*.test.ts` files
 * share it: `haven`, `api` and `base` are the current test's (live bindings, set by the hooks).
 */
import { afterEach, beforeEach } from 'vitest';
import { createControlApi, type ControlApi } from '@haven/control';
import { fakeHaven, quietLogger, REPORT_TOKEN, TOKEN, type FakeHaven } from './fake-deps.js';

export let haven: FakeHaven;
export let api: ControlApi;
/** The API's `http://127.0.0.1:<port>`. */
export let base: string;

/** Registers the hooks that start a fresh API before each test of the calling file and stop it after. */
export function useControlApi(): void {
  beforeEach(async () => {
    haven = fakeHaven();
    api = createControlApi(haven.deps, { listen: '127.0.0.1:0', token: TOKEN, nodeReportToken: REPORT_TOKEN, logger: quietLogger(), processMetrics: false, liveDebounceMs: 20 });
    await api.start();
    base = api.url();
  });

  afterEach(async () => {
    await api.stop();
  });
}

interface CallOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as written (a body that is not JSON, or too large). */
  rawBody?: string;
  /** Default `application/json` when there is a body. */
  contentType?: string;
}

/** One request to the API; the body parsed when the answer says it is JSON. */
export async function call(method: string, path: string, opts: CallOptions = {}) {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined || opts.rawBody !== undefined) {
    body = opts.rawBody ?? JSON.stringify(opts.body);
    headers['content-type'] = opts.contentType ?? 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Record<string, any>) : undefined;
  return { status: res.status, headers: res.headers, text, json: json as any };
}
