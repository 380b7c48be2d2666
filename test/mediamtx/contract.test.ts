/**
 * Core's shared MediaServer contract against a real MediaMTX in both roles, plus apply() hot reload:
 * streams added and removed while running, without restarting MediaMTX.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaServerContract } from '@haven/core/testing';
import { stopAll, waitFor } from '../helpers/process.js';
import { contractAccess, hasVideo, probeRtsp, publishRtmp, rtspUrl, startMediamtx, testSecrets, type Started } from './harness.js';

const S = testSecrets();

mediaServerContract('mediamtx (origin)', async () => {
  const s = await startMediamtx({ role: 'origin', streams: ['live', 'other'], secrets: testSecrets() });
  return { server: s.server, streams: [{ name: 'live' }, { name: 'other' }], access: contractAccess(s), acceptsPublishers: true, close: () => s.stop() };
});

mediaServerContract('mediamtx (node, origin unreachable)', async () => {
  // Nothing listens on the origin address: the pull retries, the stream stays not ready.
  const s = await startMediamtx({ role: 'node', options: { originRelay: { host: '127.0.0.1', port: 9 } }, secrets: testSecrets() });
  return { server: s.server, streams: [{ name: 'live' }], access: contractAccess(s), acceptsPublishers: false, close: () => s.stop() };
});

describe('apply() hot-reloads streams without restarting MediaMTX', () => {
  let o: Started;
  beforeAll(async () => {
    o = await startMediamtx({ role: 'origin', streams: ['live'] });
  });
  afterAll(async () => {
    await o?.stop();
    await stopAll();
  });

  it('adds a stream that can be published and read at once', async () => {
    const pid = o.server.pid;
    await o.server.apply([{ name: 'live' }, { name: 'extra' }]);
    expect((await o.server.api.getPathConf('extra'))?.source).toBe('publisher');
    const pub = publishRtmp(o.ports.rtmp, 'extra', `user=publisher&pass=${S.streamKey}`, 30);
    await waitFor('extra ready', async () => (await o.server.stats('extra')).ready || undefined, 30_000, 200);
    expect(hasVideo(await probeRtsp(rtspUrl(o.ports.rtsp, 'extra', 'viewer', S.viewerPassword)))).toBe(true);
    await pub.stop();
    expect(o.server.pid).toBe(pid);
  });

  it('removes a stream: its config is gone and publishing to it is refused', async () => {
    const pid = o.server.pid;
    await o.server.apply([{ name: 'live' }]);
    expect(await o.server.api.getPathConf('extra')).toBeUndefined();
    const pub = publishRtmp(o.ports.rtmp, 'extra', `user=publisher&pass=${S.streamKey}`, 8);
    expect(await pub.exited).not.toBe(0);
    expect(o.server.pid).toBe(pid);
  });

  it('two quick apply() calls (inside MediaMTX reload debounce) still converge', async () => {
    await o.server.apply([{ name: 'live' }, { name: 'a' }]);
    await o.server.apply([{ name: 'live' }, { name: 'a' }, { name: 'b' }]);
    const names = (await o.server.api.listPathConfs()).items.map((c) => c.name).sort();
    expect(names).toEqual(['a', 'b', 'live']);
  });

  it('rejects a stream name MediaMTX would not accept', async () => {
    await expect(o.server.apply([{ name: 'bad/name' }])).rejects.toMatchObject({ code: 'STREAM_INVALID' });
  });

  it('kick() disconnects a session by its id (here the publisher)', async () => {
    const pub = publishRtmp(o.ports.rtmp, 'live', `user=publisher&pass=${S.streamKey}`, 30);
    await waitFor('live ready', async () => (await o.server.stats('live')).ready || undefined, 30_000, 200);
    const src = (await o.server.api.getPath('live'))?.source;
    expect(src?.type).toBe('rtmpConn');
    expect(await o.server.kick(src!.id!)).toBe(true);
    expect(await pub.exited).not.toBe(0);
    await waitFor('live not ready', async () => !(await o.server.stats('live')).ready || undefined, 30_000, 200);
  });
});
