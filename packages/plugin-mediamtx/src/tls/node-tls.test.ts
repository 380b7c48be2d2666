import { describe, expect, it } from 'vitest';
import { mediamtxOptionsSchema } from '../options.js';
import { renderConfig } from '../render.js';
import { nodeTls } from './node-tls.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const nodeOptions = (extra: object = {}) => mediamtxOptionsSchema.parse({ originRelay: { host: '10.77.0.1' }, tls: 'acme', ...extra });

describe('TLS on a node', () => {
  it('renders HLS over HTTPS from the one key+chain file; RTSPS only when asked (never the default)', () => {
    const input = {
      role: 'node' as const,
      streams: [{ name: 'live' }],
      options: nodeOptions(),
      rtspAddress: ':8554',
      hlsAddress: ':8888',
      rtmpAddress: '127.0.0.1:1935',
      srtAddress: '127.0.0.1:8890',
      trustedProxies: ['127.0.0.1/32'],
      authUrl: 'http://127.0.0.1:1/auth',
      relayPassword: 'r'.repeat(40),
      tlsFile: '/state/tls/live.pem',
    };
    const c = renderConfig(input);
    expect(c).toMatchObject({ hlsEncryption: true, hlsServerKey: '/state/tls/live.pem', hlsServerCert: '/state/tls/live.pem', rtspEncryption: 'no' });
    expect(c).not.toHaveProperty('rtspsAddress');
    const withRtsps = renderConfig({ ...input, options: nodeOptions({ rtspsAddress: ':8322' }) });
    expect(withRtsps).toMatchObject({ rtspEncryption: 'optional', rtspsAddress: ':8322', serverKey: '/state/tls/live.pem', serverCert: '/state/tls/live.pem' });
    const { tlsFile: _, ...plain } = input;
    expect(renderConfig(plain)).not.toHaveProperty('hlsEncryption');
  });

  it('refuses tls on an origin, without HLS, or when public.host is a name, saying what to change', () => {
    expect(() => nodeTls('origin', nodeOptions(), '203.0.113.7', '/tmp/x', quiet)).toThrow(/the origin stays private/);
    expect(() => nodeTls('node', nodeOptions({ hls: false }), '203.0.113.7', '/tmp/x', quiet)).toThrow(/hls is false/);
    expect(() => nodeTls('node', nodeOptions(), 'node.example.net', '/tmp/x', quiet)).toThrow(/set public.host to the node's public IP/);
    expect(nodeTls('node', mediamtxOptionsSchema.parse({}), 'node.example.net', '/tmp/x', quiet)).toBeUndefined();
    expect(nodeTls('node', nodeOptions(), '[2001:db8::7]', '/tmp/x', quiet)?.liveFile).toBe('/tmp/x/tls/live.pem');
  });
});
