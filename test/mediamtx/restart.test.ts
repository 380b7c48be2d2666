/**
 * The supervisor on a real MediaMTX: killed with SIGKILL, it is restarted (an event each time) and the
 * publisher can publish again; stop() ends the process and is safe twice.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { alive, stopAll, waitFor, type Spawned } from '../helpers/process.js';
import { hasVideo, probeRtsp, publishRtmp, rtspUrl, startMediamtx, testSecrets, type Started } from './harness.js';

const S = testSecrets();

describe('MediaMTX killed: supervisor restarts it', () => {
  let o: Started;
  const pubs: Spawned[] = [];
  afterAll(async () => {
    await Promise.all(pubs.map((p) => p.stop()));
    await o?.stop();
    await stopAll();
  });

  it('restarts after SIGKILL, emits process:restarted, and publishing works again', async () => {
    o = await startMediamtx({ role: 'origin' });
    const restarted: Array<{ attempt: number; pid?: number }> = [];
    const downs: string[] = [];
    o.events.on('process:restarted', (e) => restarted.push(e));
    o.events.on('publisher:down', (e) => downs.push(e.stream));
    const ups: string[] = [];
    o.events.on('publisher:up', (e) => ups.push(e.stream));

    const first = publishRtmp(o.ports.rtmp, 'live', `user=publisher&pass=${S.streamKey}`, 60);
    pubs.push(first);
    await waitFor('publisher:up', () => ups.includes('live') || undefined, 30_000);
    const pid = o.server.pid!;
    expect(pid).toBeGreaterThan(0);

    process.kill(pid, 'SIGKILL');
    await waitFor('process:restarted', () => restarted[0], 30_000);
    expect(restarted[0]).toMatchObject({ attempt: 1 });
    const newPid = o.server.pid!;
    expect(newPid).toBeGreaterThan(0);
    expect(newPid).not.toBe(pid);
    expect(restarted[0]?.pid).toBe(newPid);
    expect(alive(pid)).toBe(false);
    expect(downs).toContain('live');
    expect(await first.exited).not.toBe(0); // its server went away

    const again = publishRtmp(o.ports.rtmp, 'live', `user=publisher&pass=${S.streamKey}`, 60);
    pubs.push(again);
    await waitFor('live ready after restart', async () => (await o.server.stats('live')).ready || undefined, 30_000, 200);
    const probe = await probeRtsp(rtspUrl(o.ports.rtsp, 'live', 'viewer', S.viewerPassword));
    expect(probe.code, probe.stderr).toBe(0);
    expect(hasVideo(probe)).toBe(true);
    expect((await o.server.status()).restarts).toBe(1);
  });

  it('stop() ends MediaMTX (SIGTERM), is safe twice, and leaves no process behind', async () => {
    const pid = o.server.pid!;
    await Promise.all([o.server.close(), o.server.close()]);
    await o.server.close();
    expect(alive(pid)).toBe(false);
    expect(o.server.pid).toBeUndefined();
    expect((await o.server.status()).state).toBe('stopped');
  });
});
