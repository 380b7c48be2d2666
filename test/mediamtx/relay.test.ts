/**
 * A node-role MediaMTX pulls the stream from an origin-role MediaMTX with the relay credential and
 * serves it to viewers with the viewer password. Both run on loopback; loopback stands in for the VPN.
 */
import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, waitFor, type Spawned } from '../helpers/process.js';
import { hasVideo, probeRtsp, publishRtmp, refusals, rtspUrl, startMediamtx, testSecrets, type Started } from './harness.js';

const S = testSecrets();

describe('node pulls from the origin over the relay credential', () => {
  let origin: Started;
  let node: Started;
  let pub: Spawned;

  beforeAll(async () => {
    origin = await startMediamtx({ role: 'origin', options: { relaySubnets: ['127.0.0.1/32'] } });
    node = await startMediamtx({ role: 'node', options: { originRelay: { host: '127.0.0.1', port: origin.ports.rtsp } } });
    pub = publishRtmp(origin.ports.rtmp, 'live', `user=publisher&pass=${S.streamKey}`, 90);
  });
  afterAll(async () => {
    await pub?.stop();
    await node?.stop();
    await origin?.stop();
    await stopAll();
  });

  it('node serves the stream to ffprobe with the viewer password', async () => {
    await waitFor('node ready', async () => (await node.server.stats('live')).ready || undefined, 45_000, 250);
    const nodeStats = await node.server.stats('live');
    expect(nodeStats.sourceType).toBe('rtspSource');
    expect(nodeStats.tracks).toContain('H264');
    // The node reads from the origin as a relay, not as a viewer.
    const originStats = await origin.server.stats('live');
    expect(originStats.relays).toBe(1);
    expect(originStats.readers).toBe(0);

    const probe = await probeRtsp(rtspUrl(node.ports.rtsp, 'live', 'viewer', S.viewerPassword));
    expect(probe.code, probe.stderr).toBe(0);
    expect(hasVideo(probe)).toBe(true);
  });

  it('node refuses a wrong viewer password and the relay credential (401)', async () => {
    const wrong = await probeRtsp(rtspUrl(node.ports.rtsp, 'live', 'viewer', 'NotThePassword123'));
    expect(wrong.stderr).toMatch(/401/);
    const relay = await probeRtsp(rtspUrl(node.ports.rtsp, 'live', 'relay', S.relayPassword));
    expect(relay.stderr).toMatch(/401/);
    // A node feeds relay children only from the VPN subnet (the relay tree): loopback is refused.
    expect(refusals(node.logs()).map((r) => r.reason)).toEqual(['bad-credentials', 'subnet']);
  });

  it('node has no ingest: RTMP and SRT are off, so nothing can publish to it', () => {
    expect(node.server.capabilities.protocols.rtmp).toBe(false);
    expect(node.server.capabilities.protocols.srt).toBe(false);
    expect(node.server.endpoints().rtmp).toBeUndefined();
  });

  it('keeps the rendered config (it holds the relay password) private, and the logs clean', async () => {
    expect((await stat(node.server.configFile)).mode & 0o777).toBe(0o600);
    for (const v of Object.values(S)) {
      expect(node.logs()).not.toContain(v);
      expect(origin.logs()).not.toContain(v);
    }
  });

  it('a relay password rotation reaches the node pull without restarting MediaMTX', async () => {
    const nodePid = node.server.pid;
    const relaySessions = async () =>
      (await origin.server.api.listRtspSessions()).items.filter((x) => x.user === 'relay' && x.state === 'read').map((x) => x.id);
    const before = await relaySessions();
    expect(before.length).toBe(1);
    const next = { ...S, relayPassword: 'RotatedRelay0123456789abcdefABCDEF012345' };
    // Origin first (its hook reads the new secret at once), then the node re-renders its source.
    await origin.server.updateSecrets(next);
    await node.server.updateSecrets(next);
    await waitFor('node ready again', async () => (await node.server.stats('live')).ready || undefined, 45_000, 250);
    // A new pull session, authenticated with the new password; the old password is refused now.
    const after = await waitFor('new relay session', async () => {
      const ids = await relaySessions();
      return ids.length === 1 && ids[0] !== before[0] ? ids : undefined;
    });
    expect(after).not.toContain(before[0]);
    const old = await probeRtsp(rtspUrl(origin.ports.rtsp, 'live', 'relay', S.relayPassword));
    expect(old.stderr).toMatch(/401/);
    const probe = await probeRtsp(rtspUrl(node.ports.rtsp, 'live', 'viewer', S.viewerPassword));
    expect(hasVideo(probe)).toBe(true);
    expect(node.server.pid).toBe(nodePid);
    expect(node.logs()).not.toContain(next.relayPassword);
  });
});
