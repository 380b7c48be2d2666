// The relay tree block of the status page in a real browser (Debian's Chromium via playwright-core):
// who feeds whom with bitrates, from the live snapshot; names shown as text, never as markup.
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlApi, createRelayPlanner, type ControlApi, type PlannerNode } from '@haven/control';
import { requireTool } from '../helpers/tools.js';
import { fakeHaven, quietLogger, TOKEN } from './fake-deps.js';

let browser: Browser | undefined;
let api: ControlApi;
const up = new Set(['node-a', 'node-b', '<i>c</i>']);
const nodes: PlannerNode[] = ['node-a', 'node-b', '<i>c</i>'].map((name, i) => ({ name, location: { lat: 50 + i, lon: 9 }, relayChildren: 2, vpnAddress: `10.77.0.${i + 2}` }));

beforeAll(async () => {
  const executablePath = requireTool('chromium', 'apt-get install -y chromium');
  const haven = fakeHaven();
  const planner = createRelayPlanner({
    origin: () => ({ name: 'origin', location: { lat: 50, lon: 8 }, relay: { maxChildren: 1, maxDepth: 3 } }),
    nodes: () => nodes,
    up: (n) => up.has(n),
    originRelay: () => ({ host: '10.77.0.1', port: 8654 }),
    nodeRelayPort: () => 8554,
  });
  planner.observeOrigin(0, 0);
  planner.observeOrigin(10_000, 7_500_000);
  planner.observe('node-a', { at: 0, ready: true, readers: 2, bytesIn: 0, bytesOut: 0 });
  planner.observe('node-a', { at: 10_000, ready: true, readers: 2, bytesIn: 7_500_000, bytesOut: 15_000_000 });
  const status = haven.deps.status.bind(haven.deps);
  api = createControlApi(
    { ...haven.deps, status: async () => ({ ...(await status()), relay: planner.view() }) },
    { listen: '127.0.0.1:0', token: TOKEN, logger: quietLogger(), processMetrics: false, liveDebounceMs: 50 },
  );
  await api.start();
  browser = await chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
});

afterAll(async () => {
  await browser?.close();
  await api?.stop();
});

describe('status page: relay tree', () => {
  it('shows who feeds whom, depth and the stream bitrate, with no console error', async () => {
    const page = await browser!.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    try {
      await page.goto(`${api.url()}/`);
      await page.locator('#conn[data-state="live"]').waitFor();
      await page.locator('#relay-card:not([hidden])').waitFor();
      await expect(page.locator('#relay-table tbody tr').count()).resolves.toBe(3);
      await expect(page.locator('#relay-table tr[data-relay-node="node-a"]').textContent()).resolves.toBe('node-aorigin (origin)16.0 Mbit/s');
      await expect(page.locator('#relay-table tr[data-relay-node="node-b"]').getAttribute('data-relay-parent')).resolves.toBe('node-a');
      // A name with markup shows as text.
      await expect(page.locator('#relay-table tbody i').count()).resolves.toBe(0);
      await expect(page.locator('#relay-table tbody').textContent()).resolves.toContain('<i>c</i>');
      await expect(page.locator('#relay-summary').textContent()).resolves.toBe('The origin feeds 1 of 1 node(s) directly; the others pull from a node. Depth 2 · stream 6.0 Mbit/s.');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
