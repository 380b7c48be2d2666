import { describe, expect, it } from 'vitest';
import { addressGroup, ConnectionBudget } from './budget.js';

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
});

describe('ConnectionBudget', () => {
  it('holds each address (IPv6 /64) to its budget over all open connections; release frees a slot once', () => {
    let now = 0;
    const b = new ConnectionBudget({ perAddress: 3, ratePerSec: 1000, burst: 1000, now: () => now });
    const held = [b.admit('203.0.113.1'), b.admit('203.0.113.1'), b.admit('203.0.113.1')];
    expect(held.every((a) => a.ok)).toBe(true);
    expect(b.admit('203.0.113.1')).toMatchObject({ ok: false, reason: 'budget' });
    expect(b.admit('203.0.113.2').ok).toBe(true);
    const v6 = [b.admit('2001:db8:1:2::1'), b.admit('2001:db8:1:2::2'), b.admit('2001:db8:1:2:ffff::3')];
    expect(v6.every((a) => a.ok)).toBe(true);
    expect(b.admit('2001:db8:1:2::4')).toMatchObject({ ok: false, reason: 'budget' });
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
