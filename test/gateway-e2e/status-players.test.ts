// Follow-rate per player and auth schemes: in /api/status, /metrics and the status page (Chromium).
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlApi, type ControlApi } from '@haven/control';
import { FollowLearner } from '@haven/gateway';
import { requireTool } from '../helpers/tools.js';
import { fakeHaven, quietLogger, TOKEN } from '../api/fake-deps.js';

let api: ControlApi;
let haven: ReturnType<typeof fakeHaven>;
const learner = new FollowLearner({ deadlineMs: () => 1, minSamples: () => 1, minPrefixes: () => 1, minFollowRate: () => 0.5, pinLocal: () => [], pinRedirect: () => ['Lavf'] });

beforeAll(async () => {
  // What a gateway learns: FFmpeg follows, a give-up player does not, media3 comes back on the same connection.
  learner.authScheme('Lavf/61.7.100', 'digest');
  learner.redirected('192.0.2.1', 'Lavf/61.7.100', 'par');
  learner.arrived('par', ['192.0.2.1']);
  learner.authScheme('GiveUp/1', 'basic');
  learner.redirected('192.0.2.2', 'GiveUp/1', 'par');
  learner.authScheme('AndroidXMedia3/1.5.1', 'digest');
  learner.redirected('192.0.2.3', 'AndroidXMedia3/1.5.1', 'par');
  learner.sameConnection('192.0.2.3', 'AndroidXMedia3/1.5.1', 'par');
  await new Promise((r) => setTimeout(r, 5));
  haven = fakeHaven();
  const deps = { ...haven.deps, status: async () => ({ ...(await haven.deps.status()), players: learner.snapshot() }) };
  api = createControlApi(deps, { listen: '127.0.0.1:0', token: TOKEN, logger: quietLogger(), processMetrics: false, liveDebounceMs: 50 });
  await api.start();
});

afterAll(async () => {
  await api?.stop();
});

describe('players in status, metrics and the status page', () => {
  it('/api/status lists follow-rate, outcome and schemes per player, and the Basic total', async () => {
    const s = (await (await fetch(`${api.url()}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      players: Array<Record<string, unknown>>;
      auth: { basic: number; digest: number };
    };
    const by = (ua: string) => s.players.find((p) => p.userAgent === ua);
    expect(by('Lavf/61.7.100')).toMatchObject({ redirects: 1, followed: 1, followRate: 1, served: 'redirect', why: 'pinned-redirect', digest: 1, basic: 0 });
    expect(by('GiveUp/1')).toMatchObject({ notFollowed: 1, followRate: 0, served: 'local', why: 'learned-local', basic: 1 });
    expect(by('AndroidXMedia3/1.5.1')).toMatchObject({ sameConnection: 1, served: 'redirect' });
    expect(s.auth).toEqual({ basic: 1, digest: 2 });
    expect(JSON.stringify(s)).not.toContain('192.0.2.');
  });

  it('/api/decisions shows the auth scheme of each RTSP decision', async () => {
    haven.events.emit('viewer:routed', { ip: '192.0.2.7', stream: 'live', node: 'us-east-1', mode: 'redirect', reason: 'nearest', decisionMs: 0.5, userAgent: 'Lavf/61.7.100', auth: 'digest' });
    await new Promise((r) => setTimeout(r, 100));
    const d = (await (await fetch(`${api.url()}/api/decisions`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { decisions: Array<{ player?: string; auth?: string }> };
    expect(d.decisions.at(-1) ?? d.decisions[0]).toMatchObject({ player: 'Lavf', auth: 'digest' });
    expect(JSON.stringify(d)).not.toContain('192.0.2.7');
  });

  it('/metrics has the follow-rate and the auth schemes per player', async () => {
    const text = await (await fetch(`${api.url()}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(text).toContain('haven_player_follow_rate{user_agent="GiveUp/1"} 0');
    expect(text).toContain('haven_player_follow_rate{user_agent="Lavf/61.7.100"} 1');
    expect(text).toContain('haven_player_auth{user_agent="GiveUp/1",scheme="basic"} 1');
    expect(text).toContain('haven_player_redirects{user_agent="AndroidXMedia3/1.5.1",outcome="same_connection"} 1');
  });

  it('the status page shows each player and how many still use Basic', async () => {
    const executablePath = requireTool('chromium', 'apt-get install -y chromium');
    const browser = await chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${api.url()}/`);
      await page.locator('#players-table tr[data-player="GiveUp/1"][data-served="local"]').waitFor();
      expect(await page.locator('#players-table tbody tr').count()).toBe(3);
      expect(await page.locator('#auth-basic').textContent()).toMatch(/^1 viewer\(s\) still sent the password with Basic/);
      expect(await page.locator('#players-table tr[data-player="Lavf/61.7.100"] td').nth(5).textContent()).toBe('100%');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
