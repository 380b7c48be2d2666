// The status page in a real browser: Debian's Chromium driven by playwright-core (no browser
// download). The page must load with no console error, show the origin and a node on the map and
// in the table, and follow a node going down live. A screenshot is kept in test-artifacts/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlApi, type ControlApi } from '@haven/control';
import { repoRoot, requireTool } from '../helpers/tools.js';
import { fakeHaven, makeNode, quietLogger, TOKEN, type FakeHaven } from './fake-deps.js';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser | undefined;
let api: ControlApi;
let haven: FakeHaven;
const VIEWER_IPS = ['198.51.100.23', '198.51.100.24', '203.0.113.99'];

beforeAll(async () => {
  const executablePath = requireTool('chromium', 'apt-get install -y chromium');
  haven = fakeHaven();
  const tokyo = makeNode('ap-tokyo', {
    region: 'ap-northeast',
    location: { lat: 35.68, lon: 139.69 },
    rtspUrl: 'rtsp://192.0.2.80:8554',
    capacity: 8,
  });
  haven.nodes.set('ap-tokyo', { node: tokyo, health: 'unknown', viewers: 0 });
  // A name with markup in it must show as text, never as markup.
  const tricky = makeNode('sa-east', { location: { lat: -23.55, lon: -46.63 }, rtspUrl: 'rtsp://192.0.2.81:8554', region: '<b>sa</b>' });
  haven.nodes.set('sa-east', { node: tricky, health: 'up', viewers: 1 });
  api = createControlApi(haven.deps, { listen: '127.0.0.1:0', token: TOKEN, logger: quietLogger(), processMetrics: false, liveDebounceMs: 50 });
  await api.start();
  for (const ip of VIEWER_IPS) {
    const node = ip.startsWith('203.') ? 'origin' : 'us-east-1';
    haven.events.emit('viewer:routed', { ip, stream: 'live', node, mode: 'redirect', reason: 'nearest', decisionMs: 0.9, userAgent: 'LibVLC/3.0.20 LIVE555/2016.11.28' });
  }
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await api?.stop();
});

async function nodeHealth(page: Page, name: string): Promise<string | null> {
  return page.locator(`#map-nodes [data-node="${name}"]`).getAttribute('data-health');
}

describe('status page in Chromium', () => {
  it('loads with no console error, shows origin and nodes, and follows a node going down', async () => {
    const context = await browser!.newContext({ viewport: { width: 1400, height: 1300 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    const external: string[] = [];
    page.on('request', (req) => {
      if (!req.url().startsWith(api.url())) external.push(req.url());
    });
    page.on('response', (res) => {
      if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
    });

    try {
      await page.goto(`${api.url()}/`);
      await page.locator('#conn[data-state="live"]').waitFor();
      await page.locator('#map-nodes [data-node="origin"].origin').waitFor();
      await page.locator('#map-nodes [data-node="us-east-1"][data-health="up"]').waitFor();
      expect(await nodeHealth(page, 'ap-tokyo')).toBe('unknown');
      await expect(page.locator('#map-nodes [data-node="origin"] .node-label').textContent()).resolves.toBe('origin (origin)');
      await expect(page.locator('#nodes-table tr[data-node="us-east-1"] .health').textContent()).resolves.toBe('up');
      await expect(page.locator('#streams [data-stream="live"]').textContent()).resolves.toBe('live: on air · 8 viewers');
      await expect(page.locator('#total-up').textContent()).resolves.toBe('3/4');
      // Viewers are shown by place, never by address.
      await expect(page.locator('#places-table tbody tr').count()).resolves.toBe(2);
      await expect(page.locator('#map-viewers circle').count()).resolves.toBe(2);
      await expect(page.locator('#decisions-table tbody tr').first().textContent()).resolves.toContain('Tokyo, JP');
      await expect(page.locator('#links-table tbody tr').count()).resolves.toBe(4);
      // Markup in a name is text.
      await expect(page.locator('#nodes-table tr[data-node="sa-east"] td').nth(1).textContent()).resolves.toBe('<b>sa</b>');
      await expect(page.locator('#nodes-table b').count()).resolves.toBe(0);

      // The node goes down: the map, the table and the totals follow without a reload.
      haven.setHealth('us-east-1', 'down');
      await page.locator('#map-nodes [data-node="us-east-1"][data-health="down"]').waitFor();
      await page.locator('#nodes-table tr[data-node="us-east-1"][data-health="down"]').waitFor();
      await expect(page.locator('#nodes-table tr[data-node="us-east-1"] .health').textContent()).resolves.toBe('down (ECONNREFUSED)');
      await expect(page.locator('#total-up').textContent()).resolves.toBe('2/4');
      await expect(page.locator('#map-links line.vpn-link.down').count()).resolves.toBe(1);

      const html = await page.content();
      for (const ip of VIEWER_IPS) expect(html).not.toContain(ip);

      const dir = path.join(repoRoot, 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: path.join(dir, 'status-page.png'), fullPage: true });

      expect(problems).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
