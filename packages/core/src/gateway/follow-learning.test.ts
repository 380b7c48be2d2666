import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FollowLearner, type FollowLearnerOptions } from './follow-learning.js';

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
    const { l, tick } = learner();
    l.redirected('198.51.100.1', 'GoodPlayer/1', 'par');
    expect(l.arrived('par', ['198.51.100.1'])).toBe(1);
    expect(l.arrived('par', ['198.51.100.1'])).toBe(0); // matched once
    l.redirected('198.51.100.2', 'GiveUp/1', 'par');
    expect(l.verdict('GiveUp/1')).toEqual({ served: 'redirect', why: 'default' });
    tick(10_001);
    l.redirected('198.51.100.3', 'GiveUp/1', 'fra');
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

  it('persists 0600 and reloads; a broken file is reported and ignored', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-learn-'));
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
});
