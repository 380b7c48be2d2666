import { afterEach, describe, expect, it, vi } from 'vitest';
import { ipGroups } from '@haven/core';
import { addressGroup, ConnectionBudget, type Admission } from './budget.js';

describe('addressGroup', () => {
  it('keeps IPv4 (mapped too) and groups IPv6 by /64', () => {
    expect(addressGroup('198.51.100.7')).toBe('198.51.100.7');
    expect(addressGroup('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(addressGroup('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressGroup('2001:0db8:0001:0002::9')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
  });

  it('groups networks: IPv4 by /24, IPv6 by /48 (zone ids, IPv4 tails and mapped forms too)', () => {
    expect(ipGroups('198.51.100.7')).toEqual({ address: '198.51.100.7', prefix: '198.51.100.0/24' });
    expect(ipGroups('::ffff:198.51.100.7').prefix).toBe('198.51.100.0/24');
    expect(ipGroups('2001:db8:1:2:aaaa::1')).toEqual({ address: '2001:db8:1:2::/64', prefix: '2001:db8:1::/48' });
    expect(ipGroups('2001:db8:1:ffff::1').prefix).toBe('2001:db8:1::/48');
    expect(ipGroups('fe80::1%eth0')).toEqual({ address: 'fe80:0:0:0::/64', prefix: 'fe80:0:0::/48' });
    expect(ipGroups('64:ff9b::192.0.2.1').address).toBe('64:ff9b:0:0::/64');
    expect(ipGroups(undefined)).toEqual({ address: '(none)', prefix: '(none)' });
  });
});

const ok = (a: Admission): Extract<Admission, { ok: true }> => {
  if (!a.ok) throw new Error(`refused: ${a.reason}`);
  return a;
};

describe('ConnectionBudget: prefixes, deadline, fair cap', () => {
  afterEach(() => vi.useRealTimers());
  const wide = { ratePerSec: 1000, burst: 1000 };

  it('counts every address of a network together: rotating inside a /24 or a /48 does not escape', () => {
    const b = new ConnectionBudget({ perAddress: 4, perPrefix: 6, undecidedPerAddress: 4, undecidedPerPrefix: 5, ...wide });
    const v4 = Array.from({ length: 8 }, (_, i) => b.admit(`203.0.113.${i + 1}`));
    expect(v4.filter((a) => a.ok)).toHaveLength(5);
    expect(v4[5]).toMatchObject({ ok: false, reason: 'undecided', prefix: '203.0.113.0/24' });
    for (const a of v4) if (a.ok) a.decided();
    // Decided connections leave the undecided count; the open budget of the /24 still holds.
    expect(b.admit('203.0.113.77').ok).toBe(true);
    expect(b.admit('203.0.113.78')).toMatchObject({ ok: false, reason: 'prefix' });
    const v6 = Array.from({ length: 8 }, (_, i) => b.admit(`2001:db8:7:${i}::1`));
    expect(v6.filter((a) => a.ok)).toHaveLength(5);
    expect(b.admit('198.51.100.1').ok).toBe(true);
  });

  it('rate-limits a network as a whole (a fresh address per connection gains nothing)', () => {
    const b = new ConnectionBudget({ perAddress: 100, ratePerSec: 1, burst: 2, prefixRatePerSec: 1, prefixBurst: 5, now: () => 0 });
    const r = Array.from({ length: 10 }, (_, i) => b.admit(`2001:db8:9:${i}::1`));
    expect(r.filter((a) => a.ok)).toHaveLength(5);
    expect(r[5]).toMatchObject({ ok: false, reason: 'rate' });
  });

  it('closes an undecided connection at its deadline however many requests it sent; a decided one stays', () => {
    vi.useFakeTimers();
    const b = new ConnectionBudget({ perAddress: 10, undecidedDeadlineMs: 10_000, ...wide });
    const shed: string[] = [];
    const slow = ok(b.admit('203.0.113.5', (why) => shed.push(`slow:${why}`)));
    const viewer = ok(b.admit('203.0.113.6', (why) => shed.push(`viewer:${why}`)));
    vi.advanceTimersByTime(3000);
    viewer.decided();
    vi.advanceTimersByTime(6999);
    expect(shed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(shed).toEqual(['slow:deadline']);
    expect(b.stats()).toMatchObject({ open: 1, undecided: 0, shed: { deadline: 1, fair: 0 } });
    slow.release(); // the socket's close after the shed counts nothing twice
    expect(b.stats().open).toBe(1);
    vi.advanceTimersByTime(60_000);
    expect(shed).toEqual(['slow:deadline']);
  });

  it('near the cap the network holding most slots is refused first; at the cap a newcomer sheds the biggest holder', () => {
    const shed: string[] = [];
    const b = new ConnectionBudget({ perAddress: 50, perPrefix: 50, undecidedPerAddress: 50, undecidedPerPrefix: 50, maxConnections: 100, ...wide });
    const held = (net: number, n: number) => Array.from({ length: n }, (_, i) => b.admit(`10.${net}.0.${i + 1}`, () => shed.push(`10.${net}`)));
    expect(held(1, 45).every((a) => a.ok)).toBe(true);
    expect(held(2, 45).every((a) => a.ok)).toBe(true);
    // 90 of 100: near the cap. Both big networks are refused; a third one gets in.
    expect(held(1, 1)[0]).toMatchObject({ ok: false, reason: 'cap' });
    expect(held(3, 10).every((a) => a.ok)).toBe(true);
    expect(b.stats().open).toBe(100);
    // At the cap: a viewer from a new network takes the oldest undecided slot of a biggest holder.
    const viewer = ok(b.admit('198.51.100.9', () => shed.push('viewer')));
    expect(shed).toEqual(['10.1']);
    expect(b.openForPrefix('10.1.0.1')).toBe(44);
    viewer.decided();
    expect(b.stats()).toMatchObject({ open: 100, shed: { fair: 1 }, refused: { cap: 1 } });
  });

  it('60 networks holding their undecided budgets leave room for a viewer from a 61st (the default limits)', () => {
    const b = new ConnectionBudget({ maxConnections: 2000, perAddress: 64, perPrefix: 256, undecidedPerAddress: 16, undecidedPerPrefix: 32, ratePerSec: 10, burst: 40, now: () => 0 });
    let refused = 0;
    for (let net = 0; net < 60; net++) {
      for (let i = 0; i < 100; i++) if (!b.admit(`198.${net}.0.${(i % 4) + 1}`, () => {}).ok) refused++;
    }
    expect(b.stats().open).toBe(60 * 32);
    expect(refused).toBe(60 * 68);
    expect(b.admit('203.0.113.200', () => {}).ok).toBe(true);
  });

  it('with more networks than the cap holds, each keeps a fair share and a newcomer still gets in', () => {
    const b = new ConnectionBudget({ maxConnections: 200, perAddress: 64, perPrefix: 256, undecidedPerAddress: 16, undecidedPerPrefix: 32, ratePerSec: 1000, burst: 1000, now: () => 0 });
    const open = new Map<number, number>();
    for (let round = 0; round < 40; round++) {
      for (let net = 0; net < 30; net++) {
        const a = b.admit(`100.64.${net}.${(round % 8) + 1}`, () => open.set(net, (open.get(net) ?? 1) - 1));
        if (a.ok) open.set(net, (open.get(net) ?? 0) + 1);
      }
    }
    expect(b.stats().open).toBeLessThanOrEqual(200);
    expect(Math.max(...open.values())).toBeLessThanOrEqual(Math.ceil(200 / 30) + 1);
    expect(b.admit('203.0.113.200', () => {}).ok).toBe(true);
  });
});

describe('ConnectionBudget', () => {
  it('holds each address (IPv6 /64) to its budget over all open connections; release frees a slot once', () => {
    let now = 0;
    const b = new ConnectionBudget({ perAddress: 3, ratePerSec: 1000, burst: 1000, now: () => now });
    const held = [b.admit('203.0.113.1'), b.admit('203.0.113.1'), b.admit('203.0.113.1')];
    expect(held.every((a) => a.ok)).toBe(true);
    expect(b.admit('203.0.113.1')).toMatchObject({ ok: false, reason: 'address' });
    expect(b.admit('203.0.113.2').ok).toBe(true);
    const v6 = [b.admit('2001:db8:1:2::1'), b.admit('2001:db8:1:2::2'), b.admit('2001:db8:1:2:ffff::3')];
    expect(v6.every((a) => a.ok)).toBe(true);
    expect(b.admit('2001:db8:1:2::4')).toMatchObject({ ok: false, reason: 'address' });
    expect(b.admit('2001:db8:1:3::4').ok).toBe(true);
    const first = held[0]!;
    if (first.ok) {
      first.release();
      first.release();
    }
    expect(b.openFor('203.0.113.1')).toBe(2);
    expect(b.admit('203.0.113.1').ok).toBe(true);
    expect(b.admit('203.0.113.1').ok).toBe(false);
    now += 1;
  });

  it('limits the rate of new connections with a burst; a player reconnecting every 5 s never trips it', () => {
    let now = 0;
    const b = new ConnectionBudget({ perAddress: 100, ratePerSec: 2, burst: 4, now: () => now });
    const quick = Array.from({ length: 6 }, () => b.admit('203.0.113.9'));
    expect(quick.filter((a) => a.ok)).toHaveLength(4);
    expect(quick[5]).toMatchObject({ ok: false, reason: 'rate' });
    now += 1000;
    expect(b.admit('203.0.113.9').ok).toBe(true);
    for (let i = 0; i < 200; i++) {
      now += 5000;
      const a = b.admit('198.51.100.50');
      expect(a.ok).toBe(true);
      if (a.ok) a.release();
    }
    expect(b.openFor('198.51.100.50')).toBe(0);
    b.sweep();
    expect(b.stats().tracked).toBeLessThanOrEqual(1);
  });

  it('remembers at most maxTracked addresses', () => {
    const b = new ConnectionBudget({ perAddress: 1, ratePerSec: 0.001, burst: 1, maxTracked: 100 });
    for (let i = 0; i < 1000; i++) {
      const a = b.admit(`10.0.${i >> 8}.${i & 255}`);
      if (a.ok) a.release();
    }
    expect(b.stats().tracked).toBe(100);
    expect(b.stats().addresses).toBe(0);
  });
});

describe('ConnectionBudget.admitOrWait: a burst from one network waits for a slot instead of a refusal', () => {
  afterEach(() => vi.useRealTimers());
  const wide = { ratePerSec: 1000, burst: 1000 };
  const flush = () => new Promise<void>((r) => queueMicrotask(r));

  it('admits waiters in arrival order as slots of their network are decided or released', async () => {
    const b = new ConnectionBudget({ perAddress: 64, undecidedPerAddress: 16, undecidedPerPrefix: 2, ...wide });
    const held = [ok(b.admit('203.0.113.1')), ok(b.admit('203.0.113.2'))];
    const got: Array<[number, Admission]> = [];
    b.admitOrWait('203.0.113.3', undefined, 2000, (a) => got.push([3, a]));
    b.admitOrWait('203.0.113.4', undefined, 2000, (a) => got.push([4, a]));
    expect(got).toEqual([]);
    expect(b.stats()).toMatchObject({ waiting: 2, refused: { undecided: 0 } });
    held[0]!.decided();
    await flush();
    expect(got.map(([n, a]) => [n, a.ok])).toEqual([[3, true]]);
    held[1]!.release();
    await flush();
    expect(got.map(([n, a]) => [n, a.ok])).toEqual([[3, true], [4, true]]);
    expect(b.stats()).toMatchObject({ waiting: 0, waited: 2, undecided: 2, refused: { undecided: 0 } });
  });

  it('refuses at the end of the wait when no slot was decided (a trickler holds them), and counts it then', () => {
    vi.useFakeTimers();
    const b = new ConnectionBudget({ perAddress: 64, undecidedPerAddress: 16, undecidedPerPrefix: 1, ...wide });
    ok(b.admit('203.0.113.1'));
    const got: Admission[] = [];
    b.admitOrWait('203.0.113.9', undefined, 2000, (a) => got.push(a));
    vi.advanceTimersByTime(1999);
    expect(got).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(got).toEqual([{ ok: false, group: '203.0.113.9', prefix: '203.0.113.0/24', reason: 'undecided' }]);
    expect(b.stats()).toMatchObject({ waiting: 0, waited: 0, refused: { undecided: 1 } });
  });

  it('waits only for an undecided slot, at most a budget of waiters per network, and a cancelled waiter is gone', async () => {
    const b = new ConnectionBudget({ perAddress: 1, undecidedPerAddress: 16, undecidedPerPrefix: 1, ...wide });
    const first = ok(b.admit('203.0.113.1'));
    // Over its address's open budget: refused at once, no wait.
    const now: Admission[] = [];
    b.admitOrWait('203.0.113.1', undefined, 2000, (a) => now.push(a));
    expect(now).toMatchObject([{ ok: false, reason: 'address' }]);
    // One waiter per network (its undecided budget is 1); the next is refused at once.
    const waited: Admission[] = [];
    const cancel = b.admitOrWait('203.0.113.2', undefined, 2000, (a) => waited.push(a));
    b.admitOrWait('203.0.113.3', undefined, 2000, (a) => now.push(a));
    expect(now[1]).toMatchObject({ ok: false, reason: 'undecided' });
    cancel();
    first.decided();
    await flush();
    expect(waited).toEqual([]);
    expect(b.stats()).toMatchObject({ waiting: 0, waited: 0 });
  });
});
