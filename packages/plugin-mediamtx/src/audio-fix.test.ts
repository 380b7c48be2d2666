import { describe, expect, it } from 'vitest';
import { audioFixArgs, ingestPath, ingestTracks, renderIngestPaths } from './audio-fix.js';
import { decide, type AuthPolicy } from './auth-policy.js';
import type { AuthRequest } from './auth-request.js';
import { INTERNAL_USER, internalUrl } from './internal-access.js';
import { originPolicy, SECRETS } from './auth.fixture.js';

const secrets = SECRETS;
const PW = 'InternalPassword0123456789';
const policy = (over: Partial<AuthPolicy> = {}): AuthPolicy =>
  originPolicy({
    internal: { password: PW, apiPassword: 'InternalApi0123456789', read: new Set(['live', 'ingest/live']), publish: new Set(['live']) },
    ingestPaths: new Set(['ingest/live']),
    ...over,
  });
const req = (over: Partial<AuthRequest>): AuthRequest => ({ ip: '127.0.0.1', user: '', password: '', action: 'read', path: 'live', protocol: 'rtsp', id: null, ...over });

describe('audio fix paths and ffmpeg argv', () => {
  it('renders one ingest path per stream on an origin with the fix on, none otherwise', () => {
    const streams = [{ name: 'live' }, { name: 'two' }];
    expect(renderIngestPaths({ role: 'origin', options: { audioFix: 'auto' }, streams })).toEqual({ 'ingest/live': { source: 'publisher' }, 'ingest/two': { source: 'publisher' } });
    expect(renderIngestPaths({ role: 'origin', options: { audioFix: 'off' }, streams })).toEqual({});
    expect(renderIngestPaths({ role: 'node', options: { audioFix: 'auto' }, streams })).toEqual({});
  });

  it('re-encodes Opus, G.711, MP3 and 44.1 kHz AAC to AAC 48 kHz; copies AAC 48 kHz; video always copied', () => {
    const a = (audio: Parameters<typeof audioFixArgs>[2]) => audioFixArgs('rtsp://in', 'rtsp://out', audio).join(' ');
    for (const audio of [{ codec: 'Opus', channels: 2 }, { codec: 'G711', sampleRate: 8000 }, { codec: 'MPEG-1/2 Audio', sampleRate: 48000 }, { codec: 'MPEG-4 Audio', sampleRate: 44100 }]) {
      expect(a(audio)).toContain('-c:v copy -c:a aac -ar 48000 -b:a 160k');
    }
    expect(a({ codec: 'MPEG-4 Audio', sampleRate: 48000 })).toContain('-c:v copy -c:a copy');
    expect(a({ codec: 'Opus', channels: 8 })).toContain('-ac 2');
    expect(a(undefined)).not.toContain('-c:a');
    expect(audioFixArgs('rtsp://in', 'rtsp://out', undefined).slice(-1)).toEqual(['rtsp://out']);
  });

  it('reads MediaMTX tracks2 codec properties', () => {
    expect(
      ingestTracks({
        name: 'ingest/live',
        tracks2: [
          { codec: 'H264', codecProps: { width: 1280, height: 720, profile: 'High', level: '3.1' } },
          { codec: 'MPEG-4 Audio', codecProps: { sampleRate: 44100, channelCount: 2 } },
        ],
      }),
    ).toEqual([{ codec: 'H264', width: 1280, height: 720, profile: 'High' }, { codec: 'MPEG-4 Audio', sampleRate: 44100, channels: 2 }]);
    expect(ingestTracks(undefined)).toEqual([]);
  });
});

describe('internal credential and ingest paths in the auth hook', () => {
  it('the internal user reads streams and ingest paths and publishes streams, from loopback over RTSP only', () => {
    const i = (o: Partial<AuthRequest>) => decide(req({ user: INTERNAL_USER, password: PW, ...o }), policy(), secrets);
    expect(i({ path: 'ingest/live' })).toEqual({ allow: true, as: 'internal' });
    expect(i({ action: 'publish', path: 'live' })).toEqual({ allow: true, as: 'internal' });
    expect(i({ ip: '::1' }).allow).toBe(true);
    expect(i({ ip: '10.77.0.2' })).toMatchObject({ allow: false, reason: 'subnet' });
    expect(i({ ip: '203.0.113.5' })).toMatchObject({ allow: false, reason: 'subnet' });
    expect(i({ protocol: 'hls' })).toMatchObject({ allow: false, reason: 'protocol' });
    expect(i({ action: 'publish', path: 'ingest/live' })).toMatchObject({ allow: false, reason: 'unknown-path' });
    expect(i({ password: 'wrong' })).toMatchObject({ allow: false, reason: 'bad-credentials' });
    expect(decide(req({ user: INTERNAL_USER, password: PW }), policy({ internal: undefined }), secrets)).toMatchObject({ allow: false });
  });

  it('OBS publishes to the ingest path with the stream key; nobody else reads it', () => {
    expect(decide(req({ action: 'publish', protocol: 'srt', user: 'publisher', password: secrets.streamKey, path: 'ingest/live' }), policy(), secrets)).toEqual({ allow: true, as: 'publisher' });
    expect(decide(req({ action: 'publish', protocol: 'srt', user: INTERNAL_USER, password: secrets.streamKey, path: 'live' }), policy(), secrets).allow).toBe(false);
    expect(decide(req({ user: 'viewer', password: secrets.viewerPassword, path: 'ingest/live' }), policy(), secrets)).toMatchObject({ allow: false, reason: 'unknown-path' });
    expect(decide(req({ ip: '10.77.0.2', user: 'relay', password: secrets.relayPassword, path: 'ingest/live' }), policy(), secrets)).toMatchObject({ allow: false, reason: 'unknown-path' });
    expect(decide(req({ action: 'publish', protocol: 'rtmp', user: 'publisher', password: secrets.streamKey, path: 'ingest/other' }), policy(), secrets)).toMatchObject({ allow: false, reason: 'unknown-path' });
  });

  it('builds the internal URL with the password encoded', () => {
    expect(internalUrl('127.0.0.1:8654', ingestPath('live'), 'a/b+c')).toBe('rtsp://haven-internal:a%2Fb%2Bc@127.0.0.1:8654/ingest/live');
  });
});
