import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, exchange, fakeRtspNode, harness, recorder, statuses, type Harness } from './fakes.js';

// One rule decides redirect or serve: the gateway acts on it, `haven route` (Router.explain) reports it.
// Over every policy × User-Agent × what was pinned or learned × where the best node is, the real
// gateway's answer to an authenticated DESCRIBE and the dry run say the same thing.

const POLICIES = ['adaptive', 'known-players', 'always', 'never'] as const;
const AGENTS = ['Lavf/60.16.100', 'GStreamer/1.22.0', 'Windows-Media-Player/12.0', 'AndroidXMedia3/1.5.1'];
const VERDICTS = ['default', 'pinned-local', 'pinned-redirect', 'learned-local'] as const;
/** 127.0.0.1 is in Paris (node par is nearest); 127.0.0.9 has no location (the origin serves it). */
const VIEWERS = ['127.0.0.1', '127.0.0.9'];

const uaOf = (agent: string, verdict: (typeof VERDICTS)[number]) => (verdict === 'default' ? agent : `${agent} (${verdict}-tag)`);

describe('redirect or serve: the gateway and the dry run agree on every row', () => {
  let node: Awaited<ReturnType<typeof fakeRtspNode>>;
  let media: Awaited<ReturnType<typeof recorder>>;
  let dir: string;
  const rows: Array<{ policy: string; ip: string; ua: string; gateway: string; said: string }> = [];

  beforeAll(async () => {
    node = await fakeRtspNode();
    media = await recorder();
    dir = await mkdtemp(path.join(tmpdir(), 'haven-decision-'));
  });
  afterAll(async () => {
    const redirects = rows.filter((r) => r.gateway.startsWith('redirect')).length;
    console.log(`decision table: ${rows.length} rows, ${redirects} redirects, ${rows.length - redirects} served here, all equal`);
    await node.close();
    await media.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const policy of POLICIES) {
    it(`policy ${policy}`, async () => {
      // What was learned: these players were redirected and never arrived (below the follow rate).
      const learnFile = path.join(dir, `players-${policy}.json`);
      const learned = AGENTS.map((a) => ({ userAgent: uaOf(a, 'learned-local'), redirects: 5, followed: 0, sameConnection: 0, notFollowed: 5, basic: 0, digest: 0, lastAt: Date.now() }));
      // Unfollowed from three networks within the window: evidence a few senders cannot make.
      const now = Date.now();
      const outcomes = Object.fromEntries(learned.map((p) => [p.userAgent, ['198.51.100.0/24', '203.0.113.0/24', '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'].map((prefix, i) => ({ at: now - (5 - i) * 1000, prefix, followed: false }))]));
      await writeFile(learnFile, JSON.stringify({ version: 2, players: learned, outcomes }), { mode: 0o600 });
      const h: Harness = await harness({
        nodes: [{ name: 'par', port: node.port, lat: 48.86, lon: 2.35 }],
        splicePort: media.port,
        gateway: { redirect: policy, pinLocal: ['pinned-local-tag'], pinRedirect: ['pinned-redirect-tag'], learnMinSamples: 3, learnMinFollowRate: 0.5 },
        extra: { learnFile },
      });
      try {
        // Rows in parallel (each viewer address and User-Agent once); the gateway's event is matched by both.
        const cases = VIEWERS.flatMap((ip) => [...AGENTS.flatMap((a) => VERDICTS.map((v) => uaOf(a, v))), undefined].map((agent) => ({ ip, agent })));
        const answers = await Promise.all(
          cases.map(async ({ ip, agent }) => {
            const dry = h.stack.router.explain(ip, agent, 'live');
            const ua = agent === undefined ? '' : `User-Agent: ${agent}\r\n`;
            const r = await exchange(h.port, [`DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 2\r\n${ua}Authorization: ${basic()}\r\n\r\n`], { localAddress: ip, untilMs: 2000 });
            return { ip, agent, dry, status: statuses(r.text)[0] };
          }),
        );
        for (const { ip, agent, dry, status } of answers) {
          const ev = h.routed.find((e) => e.ip === ip && e.userAgent === agent);
          const gateway = status === 302 ? `redirect ${ev?.node} (${ev?.reason})` : status === 200 ? `splice ${ev?.node} (${ev?.reason})` : `refuse ${status}`;
          const said = dry.mode === 'redirect' ? `redirect ${dry.node} (${dry.reason})` : dry.mode === 'splice' ? `splice ${dry.node} (${dry.reason})` : 'refuse 503';
          rows.push({ policy, ip, ua: agent ?? '(none)', gateway, said });
          expect(gateway, `${policy} ${ip} ${agent}`).toBe(said);
          if (status === 302) expect(ev?.mode).toBe('redirect');
        }
      } finally {
        await h.stop();
      }
      // The table is not one-sided: both outcomes appear under the adaptive policy.
      if (policy === 'adaptive') {
        const mine = rows.filter((r) => r.policy === policy);
        expect(mine.some((r) => r.gateway.startsWith('redirect'))).toBe(true);
        expect(mine.some((r) => r.gateway.includes('(learned-local)'))).toBe(true);
        expect(mine.some((r) => r.gateway.includes('(pinned-local)'))).toBe(true);
      }
      // An MS-RTSP (VRChat PC) User-Agent is redirected to the nearest node by the default policy.
      if (policy === 'adaptive') expect(rows.find((r) => r.policy === policy && r.ip === '127.0.0.1' && r.ua === 'Windows-Media-Player/12.0')?.gateway).toMatch(/^redirect par/);
    });
  }
});
