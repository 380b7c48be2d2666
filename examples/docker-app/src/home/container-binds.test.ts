import { describe, expect, it } from 'vitest';
import { apiReadsNeedToken, containerBinds, withHost } from './container-binds.js';
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

describe('apiReadsNeedToken: who reads the control API without the token', () => {
  it('outside a container (loopback listen): every VPN peer needs the token, nobody else is asked', () => {
    const need = apiReadsNeedToken({ vpnSubnets: ['10.77.0.0/24'] });
    expect(need('10.77.0.5')).toBe(true);
    expect(need('::ffff:10.77.0.9')).toBe(true);
    expect(need('127.0.0.1')).toBe(false);
    expect(need('192.168.1.20')).toBe(false);
  });

  it('in a container bound to 0.0.0.0: only loopback and the host (the default gateway) read without it', () => {
    const need = apiReadsNeedToken({ vpnSubnets: ['10.77.0.0/24'], containerBind: '0.0.0.0', hostGateway: '172.18.0.1' });
    expect(need('172.18.0.1')).toBe(false);
    expect(need('127.0.0.1')).toBe(false);
    expect(need('::1')).toBe(false);
    expect(need('10.77.0.2')).toBe(true); // a VPN peer
    expect(need('172.18.0.7')).toBe(true); // another container
    expect(need('203.0.113.9')).toBe(true);
    expect(need('garbage')).toBe(true);
    // No gateway known: nobody but loopback.
    expect(apiReadsNeedToken({ vpnSubnets: ['10.77.0.0/24'], containerBind: '0.0.0.0' })('172.18.0.1')).toBe(true);
  });
});
