import { describe, expect, it } from 'vitest';
import { LruCache } from './lru.js';

describe('LruCache', () => {
  it('keeps recently used entries and stays bounded', () => {
    const c = new LruCache<number, string>(100);
    for (let i = 0; i < 1000; i++) {
      c.set(i, `v${i}`);
      expect(c.get(0)).toBe('v0'); // touched every time: never evicted
    }
    expect(c.size).toBeLessThanOrEqual(100);
    expect(c.get(1)).toBeUndefined();
    expect(c.get(999)).toBe('v999');
  });

  it('size 0 caches nothing', () => {
    const c = new LruCache<string, number>(0);
    c.set('a', 1);
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });
});
