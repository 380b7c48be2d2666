import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FollowLearner, type FollowLearnerOptions } from './follow-learning.js';

/** A private folder for one test's players file, removed when the test ends (passed or failed). */
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-learn-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function learner(o: Partial<FollowLearnerOptions> = {}) {
  let now = 1_000_000;
  const l = new FollowLearner({
    deadlineMs: () => 10_000,
    minSamples: () => 2,
    minFollowRate: () => 0.5,
    pinLocal: () => ['PinnedLocal'],
    pinRedirect: () => ['PinnedRedirect'],
    now: () => now,
    ...o,
  });
  return { l, tick: (ms: number) => (now += ms) };
}

describe('FollowLearner', () => {
  it('counts arrivals as followed and silent 302s as not followed; learns to serve a non-follower locally', () => {
    const { l, tick } = learner({ minPrefixes: () => 2 });
    l.redirected('198.51.100.1', 'GoodPlayer/1', 'par');
    expect(l.arrived('par', ['198.51.100.1'])).toBe(1);
    expect(l.arrived('par', ['198.51.100.1'])).toBe(0); // matched once
    l.redirected('198.51.100.2', 'GiveUp/1', 'par');
    expect(l.verdict('GiveUp/1')).toEqual({ served: 'redirect', why: 'default' });
    tick(10_001);
    l.redirected('203.0.113.3', 'GiveUp/1', 'fra');
    tick(10_001);
    expect(l.sweep()).toBe(1);
    expect(l.verdict('GiveUp/1')).toEqual({ served: 'local', why: 'learned-local' });
    expect(l.verdict('GoodPlayer/1').served).toBe('redirect');
    const snap = l.snapshot();
    expect(snap.find((p) => p.userAgent === 'GiveUp/1')).toMatchObject({ redirects: 2, notFollowed: 2, followRate: 0, served: 'local' });
    expect(snap.find((p) => p.userAgent === 'GoodPlayer/1')).toMatchObject({ followed: 1, followRate: 1 });
  });

  it('a same-connection DESCRIBE is not a failure; arrivals at another node do not match', () => {
    const { l, tick } = learner();
    l.redirected('198.51.100.1', 'AndroidXMedia3/1.5', 'par');
    l.sameConnection('198.51.100.1', 'AndroidXMedia3/1.5', 'par');
    l.redirected('198.51.100.1', 'AndroidXMedia3/1.5', 'par');
    expect(l.arrived('fra', ['198.51.100.1'])).toBe(0);
    tick(20_000);
    expect(l.snapshot()[0]).toMatchObject({ sameConnection: 1, notFollowed: 1 });
  });

  it('config pins win over what was learned', () => {
    const { l } = learner();
    expect(l.verdict('x PinnedLocal y')).toEqual({ served: 'local', why: 'pinned-local' });
    expect(l.verdict('pinnedredirect')).toEqual({ served: 'redirect', why: 'pinned-redirect' });
  });

  it('is bounded in agents and pending redirects', () => {
    const { l } = learner({ maxAgents: 5, maxPending: 10 });
    for (let i = 0; i < 100; i++) l.redirected(`10.0.0.${i % 250}`, `Agent${i}`, 'par');
    expect(l.snapshot().length).toBe(5);
    expect(l.pending).toBe(10);
  });

  it('over maxPending, the oldest pending redirect is the one forgotten, whatever was taken or expired before it', () => {
    const { l, tick } = learner({ maxPending: 3 });
    l.redirected('198.51.100.1', 'P/1', 'par');
    tick(1);
    l.redirected('198.51.100.2', 'P/1', 'par');
    tick(1);
    l.redirected('198.51.100.1', 'P/1', 'par');
    // .2 arrives: taken; the queue of ages still holds it, and must pass over it.
    expect(l.arrived('par', ['198.51.100.2'])).toBe(1);
    tick(1);
    l.redirected('198.51.100.3', 'P/1', 'par');
    tick(1);
    // Four sent, one taken: 3 pending. A fifth drops the oldest still pending: .1's first redirect.
    l.redirected('198.51.100.4', 'P/1', 'par');
    expect(l.pending).toBe(3);
    expect(l.arrived('par', ['198.51.100.1'])).toBe(1); // its second redirect is still pending
    expect(l.arrived('par', ['198.51.100.1'])).toBe(0); // its first was the one dropped
    expect(l.arrived('par', ['198.51.100.3', '198.51.100.4'])).toBe(2);
    expect(l.pending).toBe(0);
    // Many more than the bound, from many addresses: the count holds, and the newest are the ones kept.
    for (let i = 0; i < 5_000; i++) l.redirected(`10.${i >> 8}.${i & 255}.1`, 'P/1', 'par');
    expect(l.pending).toBe(3);
    expect(l.arrived('par', ['10.19.135.1', '10.19.134.1', '10.19.133.1', '10.19.132.1'])).toBe(3);
  });

  it('persists 0600 and reloads; a broken file is reported and ignored', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'players.json');
    const { l } = learner({ file });
    l.authScheme('VLC/3', 'digest');
    l.authScheme('VLC/3', 'basic');
    await l.save();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { l: again } = learner({ file });
    await again.load();
    expect(again.snapshot()[0]).toMatchObject({ userAgent: 'VLC/3', digest: 1, basic: 1 });
    writeFileSync(file, '{nope', { mode: 0o600 });
    const errors: unknown[] = [];
    const { l: broken } = learner({ file, onError: (e) => errors.push(e) });
    await broken.load();
    expect(errors.length).toBe(1);
    expect(broken.snapshot()).toEqual([]);
  });

  describe('learning that a few cannot steer', () => {
    const VRC = 'VRChat/2026.1 AVProVideo';
    const unfollowed = (l: FollowLearner, ips: string[]) => {
      for (const ip of ips) l.redirected(ip, VRC, 'par');
    };
    const deadline = 10_001;

    it('three unfollowed redirects from one network change nothing, however its addresses rotate', () => {
      const { l, tick } = learner({ minSamples: () => 3 });
      unfollowed(l, ['198.51.100.7', '198.51.100.8', '198.51.100.9']);
      tick(deadline);
      expect(l.sweep()).toBe(3);
      expect(l.verdict(VRC)).toEqual({ served: 'redirect', why: 'default' });
      // An IPv6 sender with a fresh /64 per try inside one /48: still one network.
      unfollowed(l, ['2001:db8:5:1::1', '2001:db8:5:2::1', '2001:db8:5:3::1', '2001:db8:5:4::1']);
      tick(deadline);
      l.sweep();
      expect(l.verdict(VRC).served).toBe('redirect');
      expect(l.snapshot()[0]).toMatchObject({ notFollowed: 7, served: 'redirect', evidence: { outcomes: 7, followed: 0, prefixes: 2 } });
    });

    it('from three networks they do; the evidence (networks, when) shows, and it decays', () => {
      const { l, tick } = learner({ minSamples: () => 3, windowMs: () => 3600_000 });
      unfollowed(l, ['198.51.100.7', '203.0.113.9', '2001:db8:77::1']);
      tick(deadline);
      l.sweep();
      expect(l.verdict(VRC)).toEqual({ served: 'local', why: 'learned-local' });
      const view = l.snapshot()[0]!;
      expect(view).toMatchObject({ served: 'local', why: 'learned-local', evidence: { outcomes: 3, followed: 0, prefixes: 3 } });
      expect(view.evidence!.lastAt).toBeGreaterThan(0);
      expect(JSON.stringify(view)).not.toContain('198.51.100'); // no viewer network is shown
      tick(3600_000);
      expect(l.verdict(VRC)).toEqual({ served: 'redirect', why: 'default' });
      expect(l.snapshot()[0]!.evidence).toBeUndefined();
    });

    it('followers from other networks outweigh a few non-followers', () => {
      const { l, tick } = learner({ minSamples: () => 3 });
      unfollowed(l, ['198.51.100.7', '203.0.113.9', '192.0.2.4']);
      const good = ['100.64.1.1', '100.64.2.1', '100.64.3.1', '100.64.4.1'];
      unfollowed(l, good);
      l.arrived('par', good);
      tick(deadline);
      l.sweep();
      expect(l.verdict(VRC).served).toBe('redirect');
    });

    it('an operator clears a verdict (one player or all); a reload keeps the evidence, a version-1 file brings none', async () => {
      const dir = tempDir();
      const file = path.join(dir, 'players.json');
      const { l, tick } = learner({ minSamples: () => 3, file });
      unfollowed(l, ['198.51.100.7', '203.0.113.9', '2001:db8:77::1']);
      l.redirected('192.0.2.1', 'Other/1', 'par');
      tick(deadline);
      l.sweep();
      await l.save();
      const { l: again } = learner({ minSamples: () => 3, file });
      await again.load();
      expect(again.verdict(VRC).served).toBe('local');
      expect(again.reset('Nobody/0')).toBe(0);
      expect(again.reset(VRC)).toBe(1);
      expect(again.verdict(VRC)).toEqual({ served: 'redirect', why: 'default' });
      expect(again.snapshot().map((p) => p.userAgent)).toEqual(['Other/1']);
      expect(again.reset()).toBe(1);
      expect(again.snapshot()).toEqual([]);
      writeFileSync(file, JSON.stringify({ version: 1, players: [{ userAgent: VRC, redirects: 9, followed: 0, sameConnection: 0, notFollowed: 9, basic: 0, digest: 9, lastAt: 1 }] }), { mode: 0o600 });
      const { l: old } = learner({ minSamples: () => 3, file });
      await old.load();
      expect(old.snapshot()[0]).toMatchObject({ notFollowed: 9, served: 'redirect' });
    });
  });
});
