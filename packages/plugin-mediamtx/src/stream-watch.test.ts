import { describe, expect, it } from 'vitest';
import { StreamWatch } from './stream-watch.js';

describe('StreamWatch', () => {
  it('reports a publisher that left and another that came between two polls as down then up', async () => {
    let items = [{ name: 'live', ready: true, readyTime: '2026-11-30T09:00:00Z' }];
    const changes: string[] = [];
    const w = new StreamWatch({
      api: { listPaths: async () => ({ itemCount: items.length, pageCount: 1, items }) },
      intervalMs: 60_000,
      streams: () => ['live'],
      active: () => true,
      onChange: (s, up) => changes.push(`${s}:${up ? 'up' : 'down'}`),
    });
    await w.poll();
    await w.poll();
    items = [{ name: 'live', ready: true, readyTime: '2026-11-30T09:00:09Z' }];
    await w.poll();
    items = [{ name: 'live', ready: false, readyTime: null as unknown as string }];
    await w.poll();
    expect(changes).toEqual(['live:up', 'live:down', 'live:up', 'live:down']);
  });
});
