import { describe, expect, it } from 'vitest';
import type { HavenSecrets } from '@haven/core';
import { decide } from './auth-policy.js';
import { covers, diffPaths } from './converge.js';
import { INTERNAL_USER } from './internal-access.js';
import { SubnetMatcher } from './net.js';
import { canForward, hasStream, offlineTracks, renderViewerPath, sameTracks, upstreamPath, dropUpstreamReads, upstreamBytes } from './node-paths.js';
import { mediamtxOptionsSchema } from './options.js';
import { renderConfig, renderStreamPaths, type RenderInput } from './render.js';

const input = (tracks?: Array<{ codec: string }>): Omit<RenderInput, 'streams' | 'authUrl'> => ({
  role: 'node',
  options: mediamtxOptionsSchema.parse({ originRelay: { host: '10.77.0.3', port: 8554 } }),
  rtspAddress: '127.0.0.1:8654',
  hlsAddress: undefined,
  rtmpAddress: '127.0.0.1:1935',
  srtAddress: '127.0.0.1:8890',
  trustedProxies: [],
  relayPassword: 'RelayRelayRelay1',
  nodePaths: { upstreamUrl: (p) => `rtsp://${INTERNAL_USER}:pw@127.0.0.1:8654/${p}`, tracks: () => tracks },
});

describe('node paths (viewers stay through a re-parent)', () => {
  it('renders up/<stream> following the parent and the viewer path pulling it over loopback', () => {
    expect(renderStreamPaths(input(), 'live')).toEqual({
      'up/live': { source: 'rtsp://relay:RelayRelayRelay1@10.77.0.3:8554/live', rtspTransport: 'tcp', sourceOnDemand: false },
      live: { source: `rtsp://${INTERNAL_USER}:pw@127.0.0.1:8654/up/live`, rtspTransport: 'tcp', sourceOnDemand: false, alwaysAvailable: false },
    });
    const c = renderConfig({ ...input([{ codec: 'H264' }]), streams: [{ name: 'live' }], authUrl: 'http://127.0.0.1:1/x' });
    expect(Object.keys(c.paths as object).sort()).toEqual(['live', 'up/live']);
    expect((c.paths as Record<string, unknown>).live).toMatchObject({ alwaysAvailable: true, alwaysAvailableTracks: [{ codec: 'H264' }] });
  });

  it('a parent change touches only up/<stream>: the viewer path is unchanged', () => {
    const moved = { ...input([{ codec: 'H264' }]), options: mediamtxOptionsSchema.parse({ originRelay: { host: '10.77.0.1', port: 8654 } }) };
    const a = renderStreamPaths(input([{ codec: 'H264' }]), 'live');
    const b = renderStreamPaths(moved, 'live');
    expect(b.live).toEqual(a.live);
    expect(b['up/live']!.source).not.toEqual(a['up/live']!.source);
  });

  it('on a MediaMTX that forwards, once tracks are known: up/<stream> pushes into a published viewer path; detached, it pushes nothing', () => {
    const url = `rtsp://${INTERNAL_USER}:pw@127.0.0.1:8654/live`;
    const fwd = (attached: boolean) => ({ ...input([{ codec: 'H264' }]), nodePaths: { ...input([{ codec: 'H264' }]).nodePaths!, forward: () => ({ url, attached }) } });
    expect(renderStreamPaths(fwd(true), 'live')).toEqual({
      'up/live': { source: 'rtsp://relay:RelayRelayRelay1@10.77.0.3:8554/live', rtspTransport: 'tcp', sourceOnDemand: false, forward: [{ dest: url }] },
      live: { source: 'publisher', alwaysAvailable: true, alwaysAvailableTracks: [{ codec: 'H264' }] },
    });
    expect(renderStreamPaths(fwd(false), 'live')['up/live']).toMatchObject({ forward: [] });
    // A parent change or a detach touches only up/<stream> (MediaMTX hot-reloads `forward`); the viewer path stays.
    expect(renderStreamPaths(fwd(false), 'live').live).toEqual(renderStreamPaths(fwd(true), 'live').live);
    // Tracks not known yet: the plain loopback pull, whatever the MediaMTX.
    const early = { ...input(), nodePaths: { ...input().nodePaths!, forward: () => ({ url, attached: true }) } };
    expect(renderStreamPaths(early, 'live')['up/live']).not.toHaveProperty('forward');
    expect(renderStreamPaths(early, 'live').live).toMatchObject({ source: `rtsp://${INTERNAL_USER}:pw@127.0.0.1:8654/up/live`, alwaysAvailable: false });
  });

  it('forwards only with MediaMTX v1.21.0 or newer (older ones refuse a `forward` key)', () => {
    expect(canForward('v1.21.0')).toBe(true);
    expect(canForward('v1.22.3')).toBe(true);
    expect(canForward('v2.0.0')).toBe(true);
    expect(canForward('v1.20.1')).toBe(false);
    expect(canForward('v1.9.3')).toBe(false);
    expect(canForward(undefined)).toBe(false);
    expect(canForward('unknown')).toBe(false);
  });

  it('an origin renders one path per stream', () => {
    expect(Object.keys(renderStreamPaths({ ...input(), role: 'origin' }, 'live'))).toEqual(['live']);
    expect(upstreamPath('live')).toBe('up/live');
  });

  it('learns offline tracks from tracks2; a codec with no offline equivalent gives none', () => {
    expect(offlineTracks({ tracks2: [{ codec: 'H264' }, { codec: 'MPEG-4 Audio', codecProps: { sampleRate: 48000, channelCount: 2 } }] })).toEqual([
      { codec: 'H264' },
      { codec: 'MPEG4Audio', sampleRate: 48000, channelCount: 2 },
    ]);
    expect(offlineTracks({ tracks2: [{ codec: 'H264' }, { codec: 'MPEG-4 Audio', codecProps: {} }] })).toBeUndefined();
    expect(offlineTracks({ tracks2: [{ codec: 'MPEG-1/2 Video' }] })).toBeUndefined();
    expect(offlineTracks({ tracks2: [] })).toBeUndefined();
    expect(sameTracks([{ codec: 'H264' }], [{ codec: 'H264' }])).toBe(true);
    expect(sameTracks([{ codec: 'H264' }], undefined)).toBe(false);
    expect(renderViewerPath('u', undefined, { maxReaders: 5 })).toMatchObject({ alwaysAvailable: false, maxReaders: 5 });
  });

  it('has the stream only with a real source: not the offline segment, not a source that never connected', () => {
    expect(hasStream({ available: true, online: true })).toBe(true);
    expect(hasStream({ available: true, online: false })).toBe(false); // offline segment
    expect(hasStream({ available: false, online: true })).toBe(false); // v1.20.1: static source not connected
    expect(hasStream({ ready: true })).toBe(true); // before v1.16
    expect(hasStream(undefined)).toBe(false);
  });
});

describe('diffPaths compares arrays and objects (only the keys we render)', () => {
  const api = (items: Array<Record<string, unknown>>) => ({ listPathConfs: async () => ({ itemCount: items.length, pageCount: 1, items: items as never }) });

  it('equal when MediaMTX fills in defaults of a track', async () => {
    const desired = new Map([['live', { alwaysAvailable: true, alwaysAvailableTracks: [{ codec: 'H264' }] }]]);
    const running = [{ name: 'live', alwaysAvailable: true, alwaysAvailableTracks: [{ codec: 'H264', sampleRate: 0, channelCount: 0, muLaw: false }] }];
    expect(await diffPaths(api(running), desired)).toEqual({ replace: [], remove: [] });
  });

  it('different tracks, a missing track or a missing array are a replace', async () => {
    const desired = new Map([['live', { alwaysAvailableTracks: [{ codec: 'H264' }, { codec: 'Opus' }] }]]);
    expect((await diffPaths(api([{ name: 'live', alwaysAvailableTracks: [{ codec: 'H264' }] }]), desired)).replace).toEqual(['live']);
    expect((await diffPaths(api([{ name: 'live', alwaysAvailableTracks: [{ codec: 'H264' }, { codec: 'H265' }] }]), desired)).replace).toEqual(['live']);
    expect((await diffPaths(api([{ name: 'live' }]), desired)).replace).toEqual(['live']);
    expect(covers({ a: [1, 2] }, { a: [1, 2] })).toBe(true);
    expect(covers([1], [1, 2])).toBe(false);
    expect(covers('x', { a: 1 })).toBe(false);
  });
});

describe('auth on a node whose viewer path plays the offline segment', () => {
  const secrets: HavenSecrets = { streamKey: 'KeyKeyKeyKey0001', viewerPassword: 'ViewViewView0001', relayPassword: 'RelayRelayRelay1' };
  let online = false;
  const policy = {
    role: 'node' as const,
    streams: new Set(['live']),
    viewerUser: 'viewer',
    publishAnyUser: true,
    publishProtocols: new Set(['rtmp']),
    readProtocols: new Set(['rtsp']),
    relaySubnets: new SubnetMatcher(['10.77.0.0/24']),
    internal: { password: 'InternalInternal1', apiPassword: 'InternalApi0123456789', read: new Set(['up/live']), publish: new Set(['live']) },
    online: () => online,
  };
  const read = (over: Record<string, string>) => decide({ ip: '203.0.113.5', user: 'viewer', password: secrets.viewerPassword, action: 'read', path: 'live', protocol: 'rtsp', id: null, ...over }, policy, secrets);

  it('refuses new viewers and relay children (not counted as a credential failure) until the source is back', () => {
    expect(read({})).toEqual({ allow: false, reason: 'not-ready', credentials: false });
    expect(read({ ip: '10.77.0.4', user: 'relay', password: secrets.relayPassword })).toEqual({ allow: false, reason: 'not-ready', credentials: false });
    // A wrong password is still a credential failure.
    expect(read({ password: 'WrongWrongWrong1' })).toMatchObject({ allow: false, reason: 'bad-credentials', credentials: true });
    online = true;
    expect(read({})).toEqual({ allow: true, as: 'viewer' });
  });

  it("the viewer path's own loopback pull of up/<stream> is never gated", () => {
    online = false;
    expect(read({ ip: '127.0.0.1', user: INTERNAL_USER, password: 'InternalInternal1', path: 'up/live' })).toEqual({ allow: true, as: 'internal' });
    expect(read({ ip: '203.0.113.5', user: INTERNAL_USER, password: 'InternalInternal1', path: 'up/live' })).toMatchObject({ allow: false, reason: 'subnet' });
    expect(read({ path: 'up/live' })).toMatchObject({ allow: false, reason: 'unknown-path' });
  });

  it("up/<stream>'s forward publishes the viewer path from loopback with the internal credential; nobody else publishes on a node", () => {
    const publish = (over: Record<string, string>) => read({ action: 'publish', ip: '127.0.0.1', user: INTERNAL_USER, password: 'InternalInternal1', ...over });
    expect(publish({})).toEqual({ allow: true, as: 'internal' });
    expect(publish({ ip: '10.77.0.4' })).toMatchObject({ allow: false, reason: 'subnet' });
    expect(publish({ path: 'up/live' })).toMatchObject({ allow: false, reason: 'unknown-path' });
    expect(publish({ user: 'publisher', password: secrets.streamKey })).toMatchObject({ allow: false, reason: 'role' });
  });
});

describe('a silent parent: upstream bytes and dropping the loopback reads', () => {
  it('counts bytes of up/<stream> only while it carries the stream', async () => {
    const paths: Record<string, { name: string; available?: boolean; online?: boolean; inboundBytes?: number }> = {
      'up/live': { name: 'up/live', available: true, online: true, inboundBytes: 1234 },
      'up/other': { name: 'up/other', available: false, online: true, inboundBytes: 99 },
    };
    const api = { getPath: async (n: string) => paths[n] as never };
    expect(await upstreamBytes(api, ['live', 'other', 'gone'])).toEqual(new Map([['live', 1234]]));
  });

  it("kicks only the sessions reading up/<stream> (the viewer path's loopback source), not viewers or relay children", async () => {
    const kicked: string[] = [];
    const api = {
      listRtspSessions: async () =>
        ({
          itemCount: 4,
          pageCount: 1,
          items: [
            { id: 'a', path: 'up/live', state: 'read' },
            { id: 'b', path: 'live', state: 'read' },
            { id: 'c', path: 'up/live', state: 'idle' },
            { id: 'd', path: 'live', state: 'read', user: 'relay' },
          ],
        }) as never,
      kick: async (_kind: string, id: string) => {
        kicked.push(id);
        return true;
      },
    };
    expect(await dropUpstreamReads(api, ['live'])).toBe(1);
    expect(kicked).toEqual(['a']);
  });
});
