import { describe, expect, it } from 'vitest';
import { isPublic, parseSs } from './listeners.js';

describe('ss -ltnp parsing for the listener checks', () => {
  it('reads address, port and process of each listener', () => {
    const text = [
      'LISTEN 0 4096 127.0.0.1:8654 0.0.0.0:* users:(("mediamtx",pid=4242,fd=7))',
      'LISTEN 0 4096 10.77.0.1:8654 0.0.0.0:* users:(("mediamtx",pid=4242,fd=8))',
      'LISTEN 0 511 *:8554 *:* users:(("node",pid=77,fd=20))',
      'LISTEN 0 4096 [::]:8655 [::]:* users:(("mediamtx",pid=4242,fd=9))',
    ].join('\n');
    expect(parseSs(text)).toEqual([
      { address: '127.0.0.1', port: 8654, process: 'mediamtx', pid: 4242 },
      { address: '10.77.0.1', port: 8654, process: 'mediamtx', pid: 4242 },
      { address: '*', port: 8554, process: 'node', pid: 77 },
      { address: '::', port: 8655, process: 'mediamtx', pid: 4242 },
    ]);
  });

  it('loopback and the VPN are private; wildcards and other addresses are public', () => {
    const vpn = ['10.77.0.0/24'];
    for (const a of ['127.0.0.1', '127.3.4.5', '::1', '10.77.0.1']) expect(isPublic(a, vpn), a).toBe(false);
    for (const a of ['0.0.0.0', '*', '::', '192.0.2.10', '10.78.0.1', '2001:db8::1']) expect(isPublic(a, vpn), a).toBe(true);
  });
});
