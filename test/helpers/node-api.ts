/**
 * The origin's control API as the node-facing tests need it: the main listener plus the report
 * listener (the VPN in the app), both on loopback, and one HTTP call helper that can send from a
 * given loopback address (loopback aliases stand in for nodes' VPN addresses).
 */
import { request } from 'node:http';
import { createControlApi, type ControlApi, type ControlApiDeps, type ControlApiOptions } from '@haven/control';
import { quietLogger, TOKEN } from '../api/fake-deps.js';

export interface NodeFacingApi {
  api: ControlApi;
  mainPort: number;
  reportPort: number;
}

/** Starts the API on 127.0.0.1 with its report listener; nodes are named by `nodeByAddress` and the deps' own credentials. */
export async function startNodeFacingApi(
  deps: ControlApiDeps,
  o: Partial<Pick<ControlApiOptions, 'nodeReportToken' | 'nodeByAddress'>>,
): Promise<NodeFacingApi> {
  const api = createControlApi(deps, {
    listen: '127.0.0.1:0',
    reportListen: '127.0.0.1:0',
    token: TOKEN,
    logger: quietLogger(),
    processMetrics: false,
    ...o,
  });
  const started = await api.start();
  return { api, mainPort: started.port, reportPort: started.reportPort! };
}

export interface CallResult {
  status: number;
  etag?: string;
  json: any;
}

/** One HTTP call to 127.0.0.1:`port`, from `from` when given, with a Bearer token, If-None-Match or a JSON body. */
export function callFrom(port: number, path: string, o: { from?: string; method?: string; token?: string; etag?: string; body?: unknown } = {}): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: o.method ?? 'GET',
        ...(o.from ? { localAddress: o.from } : {}),
        headers: {
          ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
          ...(o.etag ? { 'if-none-match': o.etag } : {}),
          ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers.etag ? { etag: String(res.headers.etag) } : {}), json: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
