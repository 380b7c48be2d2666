import { afterEach, describe, expect, it } from 'vitest';
import { ViewerTokenKey } from '@haven/core';
import { createNodeReporter, type ControlApi, type NodeReporter } from '@haven/control';
import { startNodeFacingApi } from '../helpers/node-api.js';
import { waitFor } from '../helpers/process.js';
import { fakeHaven, quietLogger, REPORT_TOKEN, TOKEN } from './fake-deps.js';

let api: ControlApi | undefined;
let reporter: NodeReporter | undefined;

afterEach(async () => {
  await reporter?.stop();
  await api?.stop();
  reporter = api = undefined;
});

describe('node reporter (node side of POST /api/node-report)', () => {
  it('reports readers and bytes to the origin at an interval; wrong token is refused', async () => {
    const haven = fakeHaven();
    let relayPassword = REPORT_TOKEN;
    let reportPort: number;
    ({ api, reportPort } = await startNodeFacingApi(haven.deps, { nodeReportToken: () => relayPassword }));
    let readers = 2;
    const tokenKey = new ViewerTokenKey();
    reporter = createNodeReporter({
      url: `http://127.0.0.1:${reportPort}`,
      token: REPORT_TOKEN,
      node: 'us-east-1',
      collect: async () => [{ name: 'live', ready: true, readers, bytesIn: 100, bytesOut: 2000 }],
      tokenKey: () => tokenKey.publicKey,
      intervalMs: 100,
      logger: quietLogger(),
    });
    reporter.start();
    await waitFor('first report', () => haven.reports.length >= 1);
    // The node's public token key travels with each report (the origin hands it to every entry).
    expect(haven.reports[0]).toMatchObject({ node: 'us-east-1', streams: [{ name: 'live', ready: true, readers: 2, bytesIn: 100, bytesOut: 2000 }], tokenKey: tokenKey.publicKey });
    readers = 5;
    await waitFor('node viewers from the report', async () => {
      const status = (await (await fetch(`${api!.url()}/api/status`)).json()) as { nodes: Array<{ name: string; viewers: number }> };
      return status.nodes.find((n) => n.name === 'us-east-1')?.viewers === 5;
    });
    // The relay password rotated on the origin: the old one is refused.
    relayPassword = 'rotated-relay-password-0123456789';
    expect(await reporter.sendNow()).toBe(false);
    await reporter.stop();
    await reporter.stop();
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => createNodeReporter({ url: 'rtsp://10.77.0.1:8554', token: 'x', node: 'n', collect: async () => [], logger: quietLogger() })).toThrow(
      '[haven/api] url: expected http:// or https://',
    );
  });
});

describe('node reports carry new readers\' addresses (arrivals) to the origin', () => {
  it('each address once, when it first appears; the list itself never leaves the node', async () => {
    const haven = fakeHaven();
    let reportPort: number;
    ({ api, reportPort } = await startNodeFacingApi(haven.deps, { nodeReportToken: () => REPORT_TOKEN }));
    let addrs = ['192.0.2.1'];
    reporter = createNodeReporter({
      url: `http://127.0.0.1:${reportPort}`,
      token: REPORT_TOKEN,
      node: 'us-east-1',
      collect: async () => [{ name: 'live', ready: true, readers: addrs.length, bytesIn: 1, bytesOut: 2, readerAddresses: addrs }],
      intervalMs: 60_000,
      logger: quietLogger(),
    });
    expect(await reporter.sendNow()).toBe(true);
    addrs = ['192.0.2.1', '192.0.2.2'];
    expect(await reporter.sendNow()).toBe(true);
    expect(await reporter.sendNow()).toBe(true);
    await waitFor('three reports', () => haven.reports.length >= 3);
    expect(haven.reports.map((r) => r.streams[0]?.arrivals)).toEqual([['192.0.2.1'], ['192.0.2.2'], undefined]);
    expect(JSON.stringify(haven.reports)).not.toContain('readerAddresses');
    // Status shows counts, never the addresses.
    const status = await (await fetch(`${api.url()}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(status).not.toContain('192.0.2.');
  });

  it('a report with a bad address in arrivals is refused with 400', async () => {
    const haven = fakeHaven();
    let reportPort: number;
    ({ api, reportPort } = await startNodeFacingApi(haven.deps, { nodeReportToken: () => REPORT_TOKEN }));
    const res = await fetch(`http://127.0.0.1:${reportPort}/api/node-report`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${REPORT_TOKEN}` },
      body: JSON.stringify({ node: 'us-east-1', streams: [{ name: 'live', ready: true, readers: 1, arrivals: ['not-an-ip'] }] }),
    });
    expect(res.status).toBe(400);
    expect(haven.reports).toEqual([]);
  });
});
