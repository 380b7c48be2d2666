import { describe, expect, it } from 'vitest';
import { playlistFetchUrl } from './playlist.js';

describe('playlistFetchUrl: X-Forwarded-For travels over the VPN only', () => {
  const url = 'http://203.0.113.7:8888/live/index.m3u8?cookieCheck=1';

  it('a node with a VPN address is fetched there, same port, path and query', () => {
    expect(playlistFetchUrl(url, { vpnAddress: '10.77.0.2' })).toEqual({ url: 'http://10.77.0.2:8888/live/index.m3u8?cookieCheck=1', viaVpn: true });
    expect(playlistFetchUrl(url, { vpnAddress: 'fd00::2' })).toEqual({ url: 'http://[fd00::2]:8888/live/index.m3u8?cookieCheck=1', viaVpn: true });
  });

  it('without a VPN address, or over HTTPS (the certificate names the public address), the public URL and no forwarded header', () => {
    expect(playlistFetchUrl(url, {})).toEqual({ url, viaVpn: false });
    const tls = 'https://203.0.113.7:8888/live/index.m3u8';
    expect(playlistFetchUrl(tls, { vpnAddress: '10.77.0.2' })).toEqual({ url: tls, viaVpn: false });
  });
});
