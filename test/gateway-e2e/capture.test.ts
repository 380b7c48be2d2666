// Issue 20: the viewer password never crosses the network in clear. The Haven runs in its own
// network namespace, the viewers in another; tcpdump captures the viewers' interface for the whole
// run while FFmpeg, GStreamer and both VRChat client emulators are routed to nodes, served locally
// (same connection, learned give-up player) and fall back after a node dies.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsHarness } from '../helpers/netns.js';
import { waitFor, type Spawned } from '../helpers/process.js';
import type { PlayResult } from '../helpers/rtsp-players.js';
import { repoRoot, requireTool } from '../helpers/tools.js';
import { gstreamerRtsp, VIEWER } from '../gateway/helpers.js';

const HAVEN_IP = '10.231.7.1';
const VIEWER_IP = '10.231.7.2';

describe('packet capture on the viewers\' interface', () => {
  let net: NetnsHarness;
  let nsView: string;
  let haven: Spawned;
  let capture: Spawned;
  let dir: string;
  let ports: { rtspPort: number; par: number; fra: number };
  const pcap = () => path.join(dir, 'viewers.pcap');

  beforeAll(async () => {
    const tcpdump = requireTool('tcpdump', 'apt-get install -y tcpdump');
    requireTool('gst-launch-1.0', 'apt-get install -y gstreamer1.0-tools');
    requireTool('ffprobe', 'apt-get install -y ffmpeg');
    dir = await mkdtemp(path.join(tmpdir(), 'haven-capture-'));
    net = await NetnsHarness.create('gwcap');
    const nsHaven = await net.namespace('haven');
    nsView = await net.namespace('view');
    const link = await net.link(nsView, `${VIEWER_IP}/24`, nsHaven, `${HAVEN_IP}/24`);
    capture = net.spawn(nsView, tcpdump, ['-i', link.a, '-U', '-n', '-s', '0', '-w', pcap(), 'tcp']);
    await waitFor('tcpdump listening', async () => /listening on/.test(capture.output()), 15_000);
    haven = net.spawn(nsHaven, process.execPath, ['--import', 'tsx', 'test/gateway-e2e/haven-main.ts', HAVEN_IP, VIEWER_IP], { cwd: repoRoot });
    await waitFor('haven ready', async () => /"ready":true/.test(haven.output()) || (haven.child.exitCode !== null ? Promise.reject(new Error(haven.output())) : false), 90_000);
    ports = JSON.parse(/\{"ready":true[^\n]*\}/.exec(haven.output())?.[0] ?? '{}') as typeof ports;
  }, 180_000);

  afterAll(async () => {
    try {
      await haven?.stop('SIGTERM', 8000);
      await capture?.stop('SIGINT', 3000);
      await net?.cleanup();
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  });

  const url = () => `rtsp://${VIEWER.user}:${VIEWER.password}@${HAVEN_IP}:${ports.rtspPort}/live`;
  const play = async (kind: 'media3' | 'ms-rtsp' | 'give-up', ua: string): Promise<PlayResult> => {
    const r = await net.exec(nsView, process.execPath, ['--import', 'tsx', 'test/helpers/play-cli.ts', kind, url(), ua], { cwd: repoRoot, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`play-cli ${kind} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as PlayResult;
  };
  const routed = () =>
    [...haven.output().matchAll(/\{"routed":(\{[^\n]*\})\}/g)].map((m) => JSON.parse(m[1] as string) as { node: string; mode: string; reason: string; userAgent?: string });

  it('every player plays through the Haven, and the capture holds no Basic header, no password, no base64 of user:password', async () => {
    const ffprobe = requireTool('ffprobe', 'apt-get install -y ffmpeg');
    const ms = await play('ms-rtsp', 'MSRTSP-Emulator/1.0');
    expect(ms.played, ms.error).toBe(true);
    expect(ms.playedFrom?.port).toBe(ports.par);
    const m3 = await play('media3', 'AndroidXMedia3/1.5.1');
    expect(m3.played, m3.error).toBe(true);
    expect(m3.hops.length).toBe(1);
    const giveUp1 = await play('give-up', 'GiveUpPlayer/0.1');
    expect(giveUp1.played).toBe(false);
    await waitFor('give-up player learned', async () => {
      const again = await play('give-up', 'GiveUpPlayer/0.1');
      return again.played && again.hops.length === 1;
    }, 30_000);
    const ff = await net.exec(nsView, ffprobe, ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', '-i', url()], { timeoutMs: 30_000 });
    expect(ff.code, ff.stderr).toBe(0);
    const gs = await gstreamerRtsp(['-q', 'rtspsrc', `location=rtsp://${HAVEN_IP}:${ports.rtspPort}/live`, `user-id=${VIEWER.user}`, `user-pw=${VIEWER.password}`, 'protocols=tcp', '!', 'identity', 'eos-after=10', '!', 'fakesink'], {
      run: (cmd, args, timeoutMs) => net.exec(nsView, cmd, args, { timeoutMs }),
    });
    expect(gs.last.code, gs.last.stderr).toBe(0);
    // The nearest node dies: viewers fall back to the next one.
    haven.child.kill('SIGUSR2');
    await waitFor('par gone', async () => {
      const r = await play('ms-rtsp', 'MSRTSP-Emulator/1.0');
      return r.played && r.playedFrom?.port === ports.fra;
    }, 30_000);
    const ff2 = await net.exec(nsView, ffprobe, ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', '-i', url()], { timeoutMs: 30_000 });
    expect(ff2.code, ff2.stderr).toBe(0);
    const m3b = await play('media3', 'AndroidXMedia3/1.5.1');
    expect(m3b.played, m3b.error).toBe(true);

    const r = routed();
    expect(r.some((e) => e.mode === 'redirect' && e.node === 'par')).toBe(true);
    expect(r.some((e) => e.mode === 'redirect' && e.node === 'fra')).toBe(true);
    expect(r.some((e) => e.reason === 'same-connection')).toBe(true);
    expect(r.some((e) => e.reason === 'learned-local')).toBe(true);
    expect(r.some((e) => /^Lavf/.test(e.userAgent ?? '') && e.mode === 'redirect')).toBe(true);
    expect(r.some((e) => /GStreamer/.test(e.userAgent ?? '') && e.mode === 'redirect')).toBe(true);

    // Stop the capture (flushes), then read every TCP payload byte.
    await capture.stop('SIGINT', 5000);
    const raw = readFileSync(pcap());
    const text = raw.toString('latin1');
    // The capture saw the RTSP conversation (it can fail): challenges, Digest answers, redirects, media.
    expect(text).toContain('WWW-Authenticate: Digest');
    expect(text).toContain('Authorization: Digest');
    expect(text).toContain('RTSP/1.0 302');
    expect(text).toContain('token=v2.');
    expect(raw.length).toBeGreaterThan(100_000);
    // And never the password in any form.
    expect(text).not.toMatch(/Authorization:\s*Basic/i);
    expect(text).not.toContain(VIEWER.password);
    const b64 = Buffer.from(`${VIEWER.user}:${VIEWER.password}`).toString('base64');
    expect(text).not.toContain(b64);
    expect(text).not.toContain(encodeURIComponent(VIEWER.password));
  });
});
