/**
 * Origin role on a real MediaMTX: ingest needs the stream key (RTMP, SRT), reading needs the viewer
 * password, the relay credential cannot publish and is refused outside the VPN subnets.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, waitFor, type Spawned } from '../helpers/process.js';
import { hasVideo, probeRtsp, publishRtmp, publishRtsp, publishSrt, refusals, rtspUrl, startMediamtx, testSecrets, type Started } from './harness.js';

const S = testSecrets();

describe('origin: ingest with the key, read with the viewer password', () => {
  let o: Started;
  const publishers: Spawned[] = [];
  const ups: string[] = [];
  const downs: string[] = [];

  beforeAll(async () => {
    o = await startMediamtx({ role: 'origin', streams: ['live', 'second'] });
    o.events.on('publisher:up', ({ stream }) => ups.push(stream));
    o.events.on('publisher:down', ({ stream }) => downs.push(stream));
  });
  afterEach(async () => {
    await Promise.all(publishers.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await o?.stop();
    await stopAll();
  });

  const waitReady = (stream: string, ready = true) =>
    waitFor(`${stream} ready=${ready}`, async () => (await o.server.stats(stream)).ready === ready || undefined, 30_000, 200);

  it('RTMP with the stream key: ffprobe reads it over RTSP/TCP with the viewer password', async () => {
    publishers.push(publishRtmp(o.ports.rtmp, 'live', `user=publisher&pass=${S.streamKey}`));
    await waitReady('live');
    const stats = await o.server.stats('live');
    expect(stats.sourceType).toBe('rtmpConn');
    expect(stats.tracks).toContain('H264');
    expect(stats.bytesIn).toBeGreaterThan(0);
    await waitFor('publisher:up event', () => ups.includes('live') || undefined, 10_000);

    const probe = await probeRtsp(rtspUrl(o.ports.rtsp, 'live', 'viewer', S.viewerPassword));
    expect(probe.code, probe.stderr).toBe(0);
    expect(hasVideo(probe)).toBe(true);
    expect(probe.streams.find((s) => s.codec_type === 'video')?.width).toBe(320);
    expect((await o.server.stats('live')).bytesOut).toBeGreaterThan(0);
  });

  it('reports publisher:down when the publisher leaves', async () => {
    await Promise.all(publishers.splice(0).map((p) => p.stop()));
    await waitReady('live', false);
    await waitFor('publisher:down event', () => downs.includes('live') || undefined, 10_000);
  });

  it('SRT with the stream key in the streamid: readable over RTSP/TCP', async () => {
    publishers.push(publishSrt(o.ports.srt, `publish:second:publisher:${S.streamKey}`));
    await waitReady('second');
    expect((await o.server.stats('second')).sourceType).toBe('srtConn');
    const probe = await probeRtsp(rtspUrl(o.ports.rtsp, 'second', 'viewer', S.viewerPassword));
    expect(probe.code, probe.stderr).toBe(0);
    expect(hasVideo(probe)).toBe(true);
  });

  it('accepts the key with any user name (OBS), and only the key', async () => {
    publishers.push(publishRtmp(o.ports.rtmp, 'live', `user=obs&pass=${S.streamKey}`));
    await waitReady('live');
  });

  it('refuses a wrong stream key (RTMP and SRT) and the viewer password as a key', async () => {
    const rtmp = publishRtmp(o.ports.rtmp, 'live', 'user=publisher&pass=WrongKey0123456789', 8);
    const srt = publishSrt(o.ports.srt, 'publish:second:publisher:WrongKey0123456789', 8);
    const viewer = publishRtmp(o.ports.rtmp, 'live', `user=viewer&pass=${S.viewerPassword}`, 8);
    publishers.push(rtmp, srt, viewer);
    expect(await rtmp.exited).not.toBe(0);
    expect(await srt.exited).not.toBe(0);
    expect(await viewer.exited).not.toBe(0);
    const refused = refusals(o.logs()).filter((r) => r.action === 'publish');
    expect(refused.map((r) => r.protocol).sort()).toEqual(['rtmp', 'rtmp', 'srt']);
    expect(refused.every((r) => r.reason === 'bad-credentials')).toBe(true);
    expect((await o.server.stats('live')).ready).toBe(false);
    expect((await o.server.stats('second')).ready).toBe(false);
    expect(o.server.authFailures('127.0.0.1')).toBeGreaterThanOrEqual(2);
  });

  describe('with a publisher on air', () => {
    let onAir: Spawned | undefined;
    beforeAll(async () => {
      onAir = publishRtmp(o.ports.rtmp, 'live', `user=publisher&pass=${S.streamKey}`, 90);
      await waitReady('live');
    });
    afterAll(async () => {
      await onAir?.stop();
    });

    it('refuses a wrong viewer password and a missing one with 401', async () => {
      const wrong = await probeRtsp(rtspUrl(o.ports.rtsp, 'live', 'viewer', 'NotThePassword123'));
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/401/);
      const none = await probeRtsp(rtspUrl(o.ports.rtsp, 'live'));
      expect(none.code).not.toBe(0);
      expect(none.stderr).toMatch(/401/);
      const wrongUser = await probeRtsp(rtspUrl(o.ports.rtsp, 'live', 'someone', S.viewerPassword));
      expect(wrongUser.stderr).toMatch(/401/);
    });

    it('HLS needs the viewer password too (401 without, playlist with)', async () => {
      const url = `http://127.0.0.1:${o.ports.hls}/live/index.m3u8`;
      const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
      expect((await fetch(url, { signal: AbortSignal.timeout(20_000) })).status).toBe(401);
      expect((await fetch(url, { headers: basic('viewer', 'NotThePassword123'), signal: AbortSignal.timeout(20_000) })).status).toBe(401);
      // The muxer answers 404 until it has segments; the password was accepted once it is not 401.
      const text = await waitFor('HLS playlist', async () => {
        const r = await fetch(url, { headers: basic('viewer', S.viewerPassword), signal: AbortSignal.timeout(20_000) });
        expect(r.status).not.toBe(401);
        return r.status === 200 ? r.text() : undefined;
      }, 40_000, 500);
      expect(text).toMatch(/^#EXTM3U/);
    });

    it('refuses the stream key as a viewer password', async () => {
      const r = await probeRtsp(rtspUrl(o.ports.rtsp, 'live', 'viewer', S.streamKey));
      expect(r.stderr).toMatch(/401/);
    });

    it('refuses the relay credential outside the relay subnets (default 10.77.0.0/24)', async () => {
      const r = await probeRtsp(rtspUrl(o.ports.rtsp, 'live', 'relay', S.relayPassword));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/401/);
    });
  });
});

describe('origin: a node credential cannot publish', () => {
  let o: Started;
  afterAll(async () => {
    await o?.stop();
    await stopAll();
  });

  it('relay user/password is refused for RTMP and RTSP publish even from a relay subnet', async () => {
    // Loopback counts as the VPN here and RTSP publishing is allowed, so only the credential is judged.
    o = await startMediamtx({ role: 'origin', options: { relaySubnets: ['127.0.0.1/32'], publishProtocols: ['rtmp', 'srt', 'rtsp'] } });
    const rtmp = publishRtmp(o.ports.rtmp, 'live', `user=relay&pass=${S.relayPassword}`, 8);
    const rtsp = publishRtsp(rtspUrl(o.ports.rtsp, 'live', 'relay', S.relayPassword), 8);
    expect(await rtmp.exited).not.toBe(0);
    expect(await rtsp.exited).not.toBe(0);
    expect((await o.server.stats('live')).ready).toBe(false);
    const refused = refusals(o.logs()).filter((r) => r.action === 'publish');
    expect(refused.map((r) => `${r.protocol}:${r.reason}`).sort()).toEqual(['rtmp:bad-credentials', 'rtsp:bad-credentials']);
    // ...while the relay credential does read from there (what nodes do).
    const pub = publishRtmp(o.ports.rtmp, 'live', `user=publisher&pass=${S.streamKey}`, 30);
    await waitFor('live ready', async () => (await o.server.stats('live')).ready || undefined, 30_000, 200);
    const probe = await probeRtsp(rtspUrl(o.ports.rtsp, 'live', 'relay', S.relayPassword));
    expect(probe.code, probe.stderr).toBe(0);
    await pub.stop();
  });

  it('never wrote a secret to the log', () => {
    const logs = o.logs();
    expect(logs.length).toBeGreaterThan(0);
    for (const v of Object.values(S)) expect(logs).not.toContain(v);
  });
});
