/**
 * A private origin behind NAT (the scenario is in private-origin.ts) when an entry fails. Its own
 * namespaces (prefix `hvpent`), brought up as private-origin.test.ts checks it: the origin from `haven
 * init` with two entries joined, the stream live. An entry dies: a viewer re-opens through the other
 * one (the seconds to the first frame are printed) and the origin never restarts. An entry cut from the
 * origin says so in `haven status`, serves no viewer itself, and serves again once the tunnel is back.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/process.js';
import { usePrivateOrigin } from './private-origin.js';
import { probe } from './viewers.js';

describe('a private origin behind NAT: an entry that fails', () => {
  const po = usePrivateOrigin('hvpent', { joined: true });

  it('an entry dies: a viewer re-opens through the other entry URL and plays; the origin never restarts', async () => {
    await po.step(async () => {
      const { t, nodes, viewers, entryUrls, originHaven, figures } = po;
      const pid = originHaven.proc.child.pid;
      const killedAt = Date.now();
      await t.killHost(nodes['node-a']);
      let firstFrameAt = 0;
      await waitFor(
        'a frame through node-b after node-a died',
        async () => {
          const r = await t.exec(viewers[0]!, 'ffmpeg', ['-nostdin', '-v', 'error', '-rtsp_transport', 'tcp', '-i', entryUrls['node-b']!, '-frames:v', '1', '-f', 'null', '-'], 20_000);
          if (r.code !== 0) return false;
          firstFrameAt = Date.now();
          return true;
        },
        60_000,
        200,
      );
      figures.push(`[private origin] node-a killed -> first frame through node-b after ${((firstFrameAt - killedAt) / 1000).toFixed(2)} s`);
      expect(originHaven.proc.child.exitCode).toBeNull();
      expect(originHaven.proc.child.pid).toBe(pid);
      expect((await po.status()).streams[0]?.ready).toBe(true);
    });
  });

  it('an entry that loses the origin says so in `haven status` and serves no viewer itself; it recovers when the tunnel is back', async () => {
    await po.step(async () => {
      const { t, nat, nodes, nodeDirs, viewers, entryUrls, prefix, figures } = po;
      const b = nodes['node-b'];
      const dir = nodeDirs['node-b']!;
      // The NAT drops everything between the origin and node-b (its WireGuard and all).
      await t.h.execOk(nat.ns, 'nft', ['add', 'rule', 'inet', prefix, 'cut', 'ip', 'daddr', b.ip, 'drop']);
      await t.h.execOk(nat.ns, 'nft', ['add', 'rule', 'inet', prefix, 'cut', 'ip', 'saddr', b.ip, 'drop']);
      const lost = await waitFor(
        'node-b to report the origin lost',
        async () => {
          const r = await t.cli(b, dir, ['status']);
          return r.code === 1 && /routing state: origin-lost/.test(r.stdout) ? r.stdout : undefined;
        },
        60_000,
        500,
      );
      figures.push(`[private origin] node-b cut from the origin: \`haven status\` -> ${lost.trim().split('\n').pop()}`);
      const p = await probe(t, viewers[0]!, entryUrls['node-b']!);
      expect(p.servedBy === `${b.ip}:8554` && p.code === 0, 'node-b served a viewer with no origin').toBe(false);

      await t.h.execOk(nat.ns, 'nft', ['flush', 'chain', 'inet', prefix, 'cut']);
      await waitFor('node-b current again', async () => (await t.cli(b, dir, ['status'])).code === 0, 90_000, 1000);
      const again = await waitFor(
        'a viewer playing through node-b again',
        async () => {
          const r = await probe(t, viewers[0]!, entryUrls['node-b']!);
          return r.code === 0 ? r : undefined;
        },
        90_000,
        1000,
      );
      expect(again.codecs).toContain('h264');
    });
  });
});
