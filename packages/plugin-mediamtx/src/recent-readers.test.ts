import { describe, expect, it } from 'vitest';
import { RecentReaders } from './recent-readers.js';

describe('RecentReaders', () => {
  it('keeps token admissions for a while, per stream, bounded', () => {
    let now = 0;
    const r = new RecentReaders(60_000, 3, () => now);
    r.admitted('live', '192.0.2.1');
    now += 30_000;
    r.admitted('live', '192.0.2.2');
    r.admitted('other', '192.0.2.9');
    expect(r.list('live')).toEqual(['192.0.2.1', '192.0.2.2']);
    now += 31_000;
    expect(r.list('live')).toEqual(['192.0.2.2']);
    for (const ip of ['192.0.2.3', '192.0.2.4', '192.0.2.5']) r.admitted('live', ip);
    expect(r.list('live')).toEqual(['192.0.2.3', '192.0.2.4', '192.0.2.5']);
    expect(r.list('other')).toEqual(['192.0.2.9']);
    now += 60_000;
    expect(r.list('other')).toEqual([]);
  });
});
