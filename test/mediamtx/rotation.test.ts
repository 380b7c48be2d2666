/**
 * Viewer password rotation through the Haven: createHaven + the mediamtx plugin + a SecretStore on
 * disk. After `rotateSecret('viewerPassword')` the old password is refused and the new one accepted,
 * by the same MediaMTX process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHaven, createLogger, SecretRedactor, type Haven } from '@haven/core';
import { gatewayServices } from '@haven/gateway';
import { mediamtx, type MediaMtxServer } from '@haven/plugin-mediamtx';
import { freePort, stopAll, waitFor, type Spawned } from '../helpers/process.js';
import { mediamtxBin } from '../helpers/tools.js';
import { freeUdpPort, hasVideo, probeRtsp, publishRtmp, rtspUrl } from './harness.js';

describe('password rotation through the Haven', () => {
  let haven: Haven;
  let dir: string;
  let pub: Spawned | undefined;
  let logs = '';
  const ports = { rtsp: 0, rtmp: 0 };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'haven-mtx-rotate-'));
    ports.rtsp = await freePort();
    ports.rtmp = await freePort();
    const redactor = new SecretRedactor();
    const destination = new Writable({ write: (c: Buffer, _e, cb) => ((logs += c.toString()), cb()) });
    haven = createHaven(
      {
        role: 'origin',
        streams: [{ name: 'live' }],
        api: { listen: `127.0.0.1:${await freePort()}` },
        public: { rtspPort: await freePort(), hlsPort: await freePort() },
      },
      [
        mediamtx({
          binary: mediamtxBin(),
          rtspAddress: `127.0.0.1:${ports.rtsp}`,
          rtmpAddress: `127.0.0.1:${ports.rtmp}`,
          srtAddress: `127.0.0.1:${await freeUdpPort()}`,
          hls: false,
          apiAddress: `127.0.0.1:${await freePort()}`,
          pollIntervalMs: 250,
        }),
      ],
      { stateDir: dir, redactor, logger: createLogger({ level: 'debug', redactor, destination }), services: gatewayServices },
    );
    await haven.start();
  });
  afterAll(async () => {
    await pub?.stop();
    await haven?.stop();
    await stopAll();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('old viewer password refused, new accepted, same MediaMTX pid', async () => {
    const server = haven.provided.mediaServer as MediaMtxServer;
    const old = haven.secrets();
    pub = publishRtmp(ports.rtmp, 'live', `user=publisher&pass=${old.streamKey}`, 90);
    await waitFor('live ready', async () => (await server.stats('live')).ready || undefined, 30_000, 200);
    expect(hasVideo(await probeRtsp(rtspUrl(ports.rtsp, 'live', 'viewer', old.viewerPassword)))).toBe(true);
    const pid = server.pid;
    expect(pid).toBeGreaterThan(0);

    await haven.rotateSecret('viewerPassword');
    const next = haven.secrets();
    expect(next.viewerPassword).not.toBe(old.viewerPassword);
    expect(next.streamKey).toBe(old.streamKey);

    const refused = await probeRtsp(rtspUrl(ports.rtsp, 'live', 'viewer', old.viewerPassword));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/401/);
    const accepted = await probeRtsp(rtspUrl(ports.rtsp, 'live', 'viewer', next.viewerPassword));
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(hasVideo(accepted)).toBe(true);

    expect(server.pid).toBe(pid);
    expect((await haven.status()).plugins).toMatchObject({ mediamtx: { pid, restarts: 0 } });
    // The publisher was never interrupted by the rotation.
    expect(pub.child.exitCode).toBeNull();
    for (const v of [old.viewerPassword, next.viewerPassword, old.streamKey, old.relayPassword]) expect(logs).not.toContain(v);
  });

  it('a stream key rotation refuses the old key for new publishers', async () => {
    const old = haven.secrets();
    await haven.rotateSecret('streamKey');
    const next = haven.secrets();
    await pub?.stop();
    const server = haven.provided.mediaServer as MediaMtxServer;
    await waitFor('live down', async () => !(await server.stats('live')).ready || undefined, 30_000, 200);
    const stale = publishRtmp(ports.rtmp, 'live', `user=publisher&pass=${old.streamKey}`, 8);
    expect(await stale.exited).not.toBe(0);
    pub = publishRtmp(ports.rtmp, 'live', `user=publisher&pass=${next.streamKey}`, 60);
    await waitFor('live ready with the new key', async () => (await server.stats('live')).ready || undefined, 30_000, 200);
  });
});

