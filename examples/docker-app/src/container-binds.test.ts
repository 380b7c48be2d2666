import { describe, expect, it } from 'vitest';
import { containerBinds, withHost } from './container-binds.js';
import { selectPlugins } from './plugins.js';

describe('containerBinds', () => {
  it('reads the hosts a container image sets, nothing when unset or empty', () => {
    expect(containerBinds({})).toEqual({});
    expect(containerBinds({ HAVEN_API_BIND: '', HAVEN_INGEST_BIND: ' ' })).toEqual({});
    expect(containerBinds({ HAVEN_API_BIND: '0.0.0.0', HAVEN_INGEST_BIND: '::' })).toEqual({ api: '0.0.0.0', ingest: '::' });
  });

  it('refuses a value that is not an IP address, naming the variable', () => {
    expect(() => containerBinds({ HAVEN_INGEST_BIND: '0.0.0.0:1935' })).toThrow(/HAVEN_INGEST_BIND="0.0.0.0:1935" is not an IP address/);
    expect(() => containerBinds({ HAVEN_API_BIND: 'everywhere' })).toThrow(/HAVEN_API_BIND/);
  });

  it('replaces only the host of a listen address', () => {
    expect(withHost('127.0.0.1:8880', '0.0.0.0')).toBe('0.0.0.0:8880');
    expect(withHost(':1935', '0.0.0.0')).toBe('0.0.0.0:1935');
    expect(withHost('[::1]:8890', '::')).toBe('[::]:8890');
  });

  it('the rebound ingest reaches the MediaMTX plugin options', () => {
    const ingest = { rtmpAddress: '0.0.0.0:1935', srtAddress: '0.0.0.0:8890' };
    const mtx = selectPlugins({ role: 'origin', sections: [], hasNodes: false, ingest }).find((p) => p.name === 'mediamtx')!;
    expect(mtx.options).toMatchObject(ingest);
  });
});
