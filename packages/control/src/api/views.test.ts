import { describe, expect, it } from 'vitest';
import { nodesFromConfig, originConfigSchema } from '@haven/core';
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

describe('links of a private origin', () => {
  const nodes = [
    { name: 'nyc', region: 'us-east', rtsp: 'rtsp://198.51.100.9:8554' },
    { name: 'fra', region: 'eu-central', rtsp: 'rtsp://198.51.100.7:8554', hls: 'http://198.51.100.7:8888' },
  ];
  it('status links of a private origin: one per entry, by region, never the origin', () => {
    const c = originConfigSchema.parse({ role: 'origin', exposure: 'private', public: { host: '203.0.113.5' }, nodes });
    const info: StatusInfo = {
      name: 'home',
      state: 'running',
      streams: [{ name: 'live', ready: true, readers: 0, bytesIn: 0, bytesOut: 0, tracks: [] }],
      nodes: nodesFromConfig(c).map((node) => ({ node, health: 'up', viewers: 0 })),
      gateway: { rtspUrl: 'rtsp://127.0.0.1:8554' },
      exposure: 'private',
    } as unknown as StatusInfo;
    const l = links(info, 'viewer:pw');
    expect(l.map((x) => x.node)).toEqual(['fra', 'nyc']);
    expect(l[0]!.rtsp).toBe('rtsp://viewer:pw@198.51.100.7:8554/live');
    expect(JSON.stringify(l)).not.toMatch(/203\.0\.113\.5|127\.0\.0\.1/);
  });
});
