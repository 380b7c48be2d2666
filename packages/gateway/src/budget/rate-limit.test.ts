import { describe, expect, it } from 'vitest';
import { FailureLimiter } from './rate-limit.js';

describe('FailureLimiter', () => {
  it('blocks an IP after max failures within the window, then forgets', () => {
    let now = 0;
    const l = new FailureLimiter({ maxFailures: 3, windowMs: 1000, now: () => now });
    expect(l.fail('1.1.1.1')).toBe(false);
    expect(l.fail('1.1.1.1')).toBe(false);
    expect(l.blocked('1.1.1.1')).toBe(false);
    expect(l.fail('1.1.1.1')).toBe(true);
    expect(l.blocked('1.1.1.1')).toBe(true);
    expect(l.blocked('2.2.2.2')).toBe(false);
    now = 1500;
    expect(l.blocked('1.1.1.1')).toBe(false);
  });

  it("adds the media server's own failure counts (spliced viewers authenticate there)", () => {
    const mtx = new Map([['3.3.3.3', 2]]);
    const l = new FailureLimiter({ maxFailures: 3, external: (ip) => mtx.get(ip) ?? 0 });
    expect(l.blocked('3.3.3.3')).toBe(false);
    expect(l.fail('3.3.3.3')).toBe(true);
    expect(l.blocked('3.3.3.3')).toBe(true);
    mtx.set('4.4.4.4', 3);
    expect(l.blocked('4.4.4.4')).toBe(true);
  });

  it('ignores a failing external counter', () => {
    const l = new FailureLimiter({ maxFailures: 1, external: () => { throw new Error('down'); } });
    expect(l.blocked('5.5.5.5')).toBe(false);
  });

  it('keeps at most maxTracked IPs', () => {
    const l = new FailureLimiter({ maxFailures: 5, maxTracked: 10 });
    for (let i = 0; i < 100; i++) l.fail(`10.0.0.${i}`);
    expect(l.size).toBe(10);
  });

  it('counts per network too: rotating addresses inside a /64, a /24 or a /48 does not escape', () => {
    const l = new FailureLimiter({ maxFailures: 3, maxPrefixFailures: 5 });
    // One /64: every address is the same sender.
    l.fail('2001:db8:1:1::1');
    l.fail('2001:db8:1:1::2');
    expect(l.fail('2001:db8:1:1::3')).toBe(true);
    expect(l.blocked('2001:db8:1:1::ffff')).toBe(true);
    // A fresh /64 of the same /48 keeps its own address count, but the /48 fills up.
    expect(l.blocked('2001:db8:1:2::1')).toBe(false);
    l.fail('2001:db8:1:2::1');
    expect(l.fail('2001:db8:1:3::1')).toBe(true);
    expect(l.blocked('2001:db8:1:99::1')).toBe(true);
    expect(l.blocked('2001:db8:2::1')).toBe(false);
    for (let i = 1; i <= 4; i++) expect(l.fail(`198.51.100.${i}`)).toBe(false);
    expect(l.fail('198.51.100.5')).toBe(true);
    expect(l.blocked('198.51.100.200')).toBe(true);
    expect(l.blocked('198.51.101.1')).toBe(false);
  });
});
