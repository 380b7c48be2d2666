import { describe, expect, it } from 'vitest';
import type { StatusInfo } from './types.js';
import { links } from './views.js';

const node = (name: string, ip: string, region: string) => ({
  node: { name, region, location: { lat: 0, lon: 0 }, rtspUrl: `rtsp://${ip}:8554`, hlsUrl: `http://${ip}:8888`, capacity: 0 },
  health: 'up' as const,
});

describe('links', () => {
  it('a node that serves a certificate now gets its HTTPS HLS and a Quest link (its entry on 443); the others keep HTTP', () => {
    const info: StatusInfo = {
      name: 'h',
      state: 'running',
      streams: [{ name: 'live', ready: true, readers: 0, bytesIn: 0, bytesOut: 0, tracks: [] }],
      nodes: [
        { node: { name: 'origin', origin: true, location: { lat: 0, lon: 0 }, rtspUrl: 'rtsp://127.0.0.1:8554', capacity: 0 }, health: 'up' },
        { ...node('fra', '198.51.100.7', 'eu-central'), httpsUrl: 'https://198.51.100.7:8888' },
        node('nyc', '198.51.100.9', 'us-east'),
      ],
      gateway: { rtspUrl: 'rtsp://127.0.0.1:8554' },
      exposure: 'private',
    };
    expect(links(info, 'viewer:pw')).toEqual([
      { node: 'fra', region: 'eu-central', stream: 'live', rtsp: 'rtsp://viewer:pw@198.51.100.7:8554/live', hls: 'https://viewer:pw@198.51.100.7:8888/live/index.m3u8', quest: 'https://viewer:pw@198.51.100.7/live/index.m3u8' },
      { node: 'nyc', region: 'us-east', stream: 'live', rtsp: 'rtsp://viewer:pw@198.51.100.9:8554/live', hls: 'http://viewer:pw@198.51.100.9:8888/live/index.m3u8' },
    ]);
  });
});
