import { describe, expect, it } from 'vitest';
import { createRelayHealth, type RelaySample } from './demote.js';

const MB = 6e6; // a 6 Mbit/s stream
const bytes = (bps: number, sec: number) => Math.round((bps * sec) / 8);

describe('createRelayHealth', () => {
  let t = 0;
  const clock = () => t;
  const sample = (at: number, readers: number, inBps: number, outPerReaderBps: number, prev?: RelaySample): RelaySample => ({
    at,
    ready: true,
    readers,
    bytesIn: (prev?.bytesIn ?? 0) + bytes(inBps, (at - (prev?.at ?? at)) / 1000),
    bytesOut: (prev?.bytesOut ?? 0) + bytes(outPerReaderBps * readers, (at - (prev?.at ?? at)) / 1000),
  });

  it('keeps a parent that serves its readers at the stream bitrate', () => {
    t = 0;
    const h = createRelayHealth({ clock });
    const a = sample(0, 4, MB, MB);
    expect(h.observe('a', a, MB, true)).toBeUndefined();
    expect(h.observe('a', sample(10_000, 4, MB, MB, a), MB, true)).toBeUndefined();
    expect(h.budget('a', 3)).toBe(3);
  });

  it('demotes a parent whose send rate per reader falls (its uplink cannot carry its budget) in two windows in a row, for demoteMs', () => {
    t = 0;
    const h = createRelayHealth({ clock, demoteMs: 60_000 });
    const a = sample(0, 4, MB, MB);
    h.observe('a', a, MB, true);
    t = 10_000;
    const b = sample(10_000, 4, MB, MB * 0.4, a);
    expect(h.observe('a', b, MB, true)).toBeUndefined(); // one slow window: not yet
    expect(h.budget('a', 3)).toBe(3);
    t = 20_000;
    const d = h.observe('a', sample(20_000, 4, MB, MB * 0.4, b), MB, true);
    expect(d?.reason).toMatch(/sends 2400 kbit\/s per reader of a 6000 kbit\/s stream/);
    expect(h.budget('a', 3)).toBe(0);
    t = 80_001;
    expect(h.budget('a', 3)).toBe(3);
  });

  it('does not demote for one window that spans a re-parent (a few seconds without frames, ready at both ends)', () => {
    t = 0;
    const h = createRelayHealth({ clock });
    const a = sample(0, 2, MB, MB);
    h.observe('b', a, MB, true);
    // 10 s window, 6 s of it with no frames in and out: 40% of the stream's bitrate on average.
    const b = sample(10_000, 2, MB * 0.4, MB * 0.4, a);
    expect(h.observe('b', b, MB, true)).toBeUndefined();
    expect(h.observe('b', sample(20_000, 2, MB, MB, b), MB, true)).toBeUndefined();
    expect(h.budget('b', 2)).toBe(2);
  });

  it('demotes a parent whose readers dropped, or which receives too little itself', () => {
    t = 0;
    const h = createRelayHealth({ clock });
    const a = sample(0, 6, MB, MB);
    h.observe('a', a, MB, true);
    expect(h.observe('a', sample(10_000, 2, MB, MB, a), MB, true)?.reason).toBe('readers dropped from 6 to 2');
    const b = sample(0, 1, MB, MB);
    h.observe('b', b, MB, true);
    const b2 = sample(10_000, 1, MB * 0.5, MB * 0.5, b);
    expect(h.observe('b', b2, MB, true)).toBeUndefined();
    expect(h.observe('b', sample(20_000, 1, MB * 0.5, MB * 0.5, b2), MB, true)?.reason).toMatch(/receives 3000 kbit\/s/);
    expect(h.demotions().map((x) => x.node).sort()).toEqual(['a', 'b']);
  });

  it('does not demote a parent that lost the stream itself (its own parent died): its readers going is not its fault', () => {
    t = 0;
    const h = createRelayHealth({ clock });
    const a = sample(0, 4, MB, MB);
    h.observe('b', a, MB, true);
    expect(h.observe('b', { ...sample(10_000, 0, 0, 0, a), ready: false }, MB, true)).toBeUndefined();
    expect(h.budget('b', 2)).toBe(2);
  });

  it('judges only parents, and gives no verdict on restarted counters', () => {
    t = 0;
    const h = createRelayHealth({ clock });
    const a = sample(0, 6, MB, MB);
    h.observe('a', a, MB, false);
    expect(h.observe('a', sample(10_000, 1, MB, MB, a), MB, false)).toBeUndefined();
    h.observe('c', { at: 0, ready: true, readers: 1, bytesIn: 1e9, bytesOut: 1e9 }, MB, true);
    expect(h.observe('c', { at: 10_000, ready: true, readers: 1, bytesIn: 100, bytesOut: 100 }, MB, true)).toBeUndefined();
    expect(h.budget('a', 2)).toBe(2);
  });
});
