import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { upstreamHeaders } from './proxy.js';
import { originFormTarget, upstreamUrl } from './target.js';

describe('originFormTarget', () => {
  it('accepts origin-form paths with a query', () => {
    expect(originFormTarget('/live/seg1.ts?session=x')).toEqual({ path: '/live/seg1.ts', search: '?session=x' });
    expect(originFormTarget('/live')).toEqual({ path: '/live', search: '' });
  });
  it('refuses absolute form, //host, authority form, asterisk form and dot segments', () => {
    for (const t of ['http://127.0.0.2:9555/live/x.ts', 'https://evil.example/live/x', '//127.0.0.2:9555/live/x.ts', '127.0.0.2:9555', '*', '', '/live/../../x', '/live/%2e%2e/x', '/live\\x', undefined]) {
      expect(originFormTarget(t), String(t)).toBeUndefined();
    }
  });
});

describe('upstreamUrl', () => {
  it('keeps the base host whatever the path says', () => {
    expect(upstreamUrl('http://127.0.0.1:8655', '/live/x.ts', '?a=1').toString()).toBe('http://127.0.0.1:8655/live/x.ts?a=1');
    expect(upstreamUrl('http://127.0.0.1:8655/', '/@127.0.0.2:9555/x').host).toBe('127.0.0.1:8655');
  });
});

describe('upstreamHeaders', () => {
  it("passes only what MediaMTX reads: no Host, no other cookies, the viewer's address", () => {
    const req = {
      headers: {
        host: 'evil.example',
        authorization: 'Basic dmlld2VyOnBhc3M=',
        cookie: 'site=secret; hlsSession=abc; other=1',
        range: 'bytes=0-10',
        'x-forwarded-for': '1.2.3.4',
        'proxy-authorization': 'Basic x',
        'user-agent': 'hls.js',
      },
    } as unknown as IncomingMessage;
    expect(upstreamHeaders(req, '198.51.100.7')).toEqual({
      authorization: 'Basic dmlld2VyOnBhc3M=',
      cookie: 'hlsSession=abc',
      range: 'bytes=0-10',
      'user-agent': 'hls.js',
      'x-forwarded-for': '198.51.100.7',
    });
  });
});
