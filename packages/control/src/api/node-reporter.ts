import { HavenError, type Logger } from '@haven/core';
import type { NodeReport } from './schemas.js';
import type { TokenSource } from './types.js';

export interface NodeReporterOptions {
  /** The origin's report endpoint base over the VPN, e.g. `http://10.77.0.1:8881`. */
  url: string;
  /** Bearer token the origin accepts for reports: this node's own credential (see `nodeCredential`). */
  token: TokenSource;
  /** This node's name, as the origin knows it. */
  node: string;
  /**
   * Readers and bytes per stream, from this node's media server, with the readers' addresses when
   * known: the report carries those new since the previous report (`arrivals`), never the list.
   */
  collect(): Promise<Array<NodeReport['streams'][number] & { readerAddresses?: readonly string[] }>>;
  /** The node's HTTPS HLS base URL while it holds a CA certificate (read per report); see `NodeReport.httpsUrl`. */
  httpsUrl?: () => string | undefined;
  /** This node's public viewer token key (`ViewerTokenKey.publicKey`): the origin hands it to every entry. */
  tokenKey?: () => string | undefined;
  /** Report interval, ms. Default 10000. */
  intervalMs?: number;
  /** Deadline of one report, ms. Default 5000. */
  timeoutMs?: number;
  logger: Logger;
}

export interface NodeReporter {
  start(): void;
  /** Safe twice; resolves once an in-flight report has ended. */
  stop(): Promise<void>;
  /** Send one report now (after the one on its way, if any); resolves true when the origin accepted it. */
  sendNow(): Promise<boolean>;
}

/**
 * Runs on a node: posts its readers and bytes to the origin's `POST /api/node-report` at an
 * interval, over the VPN. Failures are logged (once per streak), never thrown.
 */
export function createNodeReporter(options: NodeReporterOptions): NodeReporter {
  let target: URL;
  try {
    target = new URL('/api/node-report', options.url);
  } catch (err) {
    throw new HavenError(`url: expected an http URL of the origin's API, got "${options.url}"`, { code: 'CONFIG_INVALID', plugin: 'api', cause: err });
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new HavenError(`url: expected http:// or https://, got "${options.url}"`, { code: 'CONFIG_INVALID', plugin: 'api' });
  }
  const log = options.logger.child({ area: 'node-report' });
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<boolean> | undefined;
  let failing = false;
  const controller = new AbortController();
  /** Reader addresses per stream as of the last report the origin accepted. */
  let seen = new Map<string, Set<string>>();

  const withArrivals = (streams: Awaited<ReturnType<NodeReporterOptions['collect']>>) => {
    const next = new Map<string, Set<string>>();
    const out: NodeReport['streams'] = streams.map(({ readerAddresses, ...s }) => {
      if (readerAddresses === undefined) return s;
      const now = new Set(readerAddresses.slice(0, 10_000));
      next.set(s.name, now);
      const before = seen.get(s.name) ?? new Set<string>();
      const arrivals = [...now].filter((a) => !before.has(a)).slice(0, 256);
      return arrivals.length > 0 ? { ...s, arrivals } : s;
    });
    return { out, next };
  };

  async function send(): Promise<boolean> {
    const token = typeof options.token === 'function' ? options.token() : options.token;
    try {
      const { out, next } = withArrivals(await options.collect());
      const httpsUrl = options.httpsUrl?.();
      const tokenKey = options.tokenKey?.();
      const report: NodeReport = {
        node: options.node,
        streams: out,
        uptimeSec: Math.round((Date.now() - started) / 1000),
        ...(httpsUrl ? { httpsUrl } : {}),
        ...(tokenKey ? { tokenKey } : {}),
      };
      const res = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? ''}` },
        body: JSON.stringify(report),
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(options.timeoutMs ?? 5000)]),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`origin answered ${res.status}`);
      seen = next;
      if (failing) log.info('reports to the origin work again');
      failing = false;
      return true;
    } catch (err) {
      if (!failing && !controller.signal.aborted) log.warn({ err: (err as Error).message, url: target.origin }, 'reporting to the origin failed; retrying');
      failing = true;
      return false;
    }
  }

  /**
   * A report asked for now says what is true now: a call while a report is on its way does not take
   * that report's answer (it was collected and authorised before the call) but the next one, which
   * starts once it ends. Calls meanwhile share that next report, so at most one waits.
   */
  let queued: Promise<boolean> | undefined;
  const sendNow = (): Promise<boolean> => {
    if (!inflight) {
      inflight = send().finally(() => {
        inflight = undefined;
      });
      return inflight;
    }
    queued ??= inflight.then(() => {
      queued = undefined;
      return sendNow();
    });
    return queued;
  };

  return {
    start() {
      if (timer || controller.signal.aborted) return;
      void sendNow();
      timer = setInterval(() => void sendNow(), options.intervalMs ?? 10_000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      controller.abort();
      await queued;
      await inflight;
    },
    sendNow,
  };
}
