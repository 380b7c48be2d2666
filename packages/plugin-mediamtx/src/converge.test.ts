import { describe, expect, it } from 'vitest';
import type { MtxList, MtxPathConf } from './api-schemas.js';
import { convergePaths, diffPaths } from './converge.js';

function fakeApi(initial: MtxPathConf[]) {
  const confs = new Map(initial.map((c) => [c.name, c]));
  const calls: string[] = [];
  return {
    calls,
    confs,
    listPathConfs: async (): Promise<MtxList<MtxPathConf>> => ({ itemCount: confs.size, pageCount: 1, items: [...confs.values()] }),
    replacePathConf: async (name: string, conf: Record<string, unknown>) => {
      calls.push(`replace ${name}`);
      confs.set(name, { name, ...conf });
    },
    deletePathConf: async (name: string) => {
      calls.push(`delete ${name}`);
      return confs.delete(name);
    },
  };
}

describe('diffPaths / convergePaths', () => {
  const desired = new Map([
    ['live', { source: 'publisher' }],
    ['new', { source: 'publisher' }],
  ]);

  it('finds missing, changed and extra paths, comparing only rendered keys', async () => {
    const api = fakeApi([
      { name: 'live', source: 'publisher', sourceOnDemand: false },
      { name: 'old', source: 'publisher' },
    ]);
    expect(await diffPaths(api, desired)).toEqual({ replace: ['new'], remove: ['old'] });
    api.confs.set('live', { name: 'live', source: 'rtsp://elsewhere/live' });
    expect((await diffPaths(api, desired)).replace).toEqual(['live', 'new']);
  });

  it('does nothing through the API when MediaMTX already matches', async () => {
    const api = fakeApi([
      { name: 'live', source: 'publisher' },
      { name: 'new', source: 'publisher' },
    ]);
    await convergePaths(api, desired, 0);
    expect(api.calls).toEqual([]);
  });

  it('applies the difference through the API once the wait is over', async () => {
    const api = fakeApi([{ name: 'old', source: 'publisher' }]);
    await convergePaths(api, desired, 0);
    expect(api.calls).toEqual(['replace live', 'replace new', 'delete old']);
    expect(await diffPaths(api, desired)).toEqual({ replace: [], remove: [] });
  });
});
