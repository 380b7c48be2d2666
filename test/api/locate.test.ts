import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlApi } from '@haven/control';
import { callFrom as call, startNodeFacingApi } from '../helpers/node-api.js';
import { fakeHaven, REPORT_TOKEN } from './fake-deps.js';

// GET /api/locate: an entry node asks the origin where a viewer's address is (only the origin holds a
// GeoIP database). Loopback aliases stand in for the nodes' VPN addresses.
let api: ControlApi;
let reportPort: number;
let mainPort: number;

beforeAll(async () => {
  ({ api, reportPort, mainPort } = await startNodeFacingApi(fakeHaven().deps, { nodeReportToken: () => REPORT_TOKEN, nodeByAddress: (ip) => (ip === '127.0.0.71' ? 'node-a' : undefined) }));
});
afterAll(async () => {
  await api?.stop();
});

describe('GET /api/locate', () => {
  it("answers a node (named by its VPN address) with the origin's location for an address, null when unknown", async () => {
    const tokyo = await call(reportPort, '/api/locate?ip=203.0.113.5', { from: '127.0.0.71' });
    expect(tokyo).toMatchObject({ status: 200, json: { location: { lat: 35.6895, lon: 139.6917, country: 'JP', city: 'Tokyo' } } });
    expect((await call(reportPort, '/api/locate?ip=::ffff:198.51.100.4', { from: '127.0.0.71' })).json.location).toMatchObject({ city: 'New York' });
    expect(await call(reportPort, '/api/locate?ip=192.0.2.1', { from: '127.0.0.71' })).toMatchObject({ status: 200, json: { location: null } });
  });

  it('refuses a malformed address (400), anyone but a node (401, 403 with the shared credential), and the public listener', async () => {
    const bad = await call(reportPort, '/api/locate?ip=not-an-ip', { from: '127.0.0.71' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toMatch(/expected an IPv4 or IPv6 address/);
    expect((await call(reportPort, '/api/locate?ip=203.0.113.5', { from: '127.0.0.72' })).status).toBe(401);
    expect((await call(reportPort, '/api/locate?ip=203.0.113.5', { from: '127.0.0.72', token: REPORT_TOKEN })).json).toMatchObject({ error: { code: 'NODE_ONLY' } });
    expect((await call(mainPort, '/api/locate?ip=203.0.113.5', { from: '127.0.0.71', token: REPORT_TOKEN })).status).toBe(403);
  });

  it('is rate-limited per network asked about and per calling node (429), so fresh addresses per connection make no lookup storm', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= 50; i++) statuses.push((await call(reportPort, `/api/locate?ip=2001:db8:66:${i.toString(16)}::1`, { from: '127.0.0.71' })).status);
    expect(statuses.slice(0, 40).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(40).filter((s) => s === 429).length).toBeGreaterThanOrEqual(9);
    const limited = await call(reportPort, '/api/locate?ip=2001:db8:66:ffff::9', { from: '127.0.0.71' });
    expect(limited).toMatchObject({ status: 429, json: { error: { code: 'RATE_LIMITED' } } });
    // Another network is still answered; the node as a whole has its own budget.
    expect((await call(reportPort, '/api/locate?ip=203.0.113.5', { from: '127.0.0.71' })).status).toBe(200);
    let refused = 0;
    for (let i = 0; i < 220 && refused === 0; i++) if ((await call(reportPort, `/api/locate?ip=100.${64 + (i >> 8)}.${i & 255}.1`, { from: '127.0.0.71' })).status === 429) refused++;
    expect(refused).toBe(1);
  });
});
