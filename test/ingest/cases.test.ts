/**
 * The VRChat ingest check end to end, as a streamer meets it: `haven init`, `haven start`, ffmpeg
 * publishing each case to the SRT URL `haven urls` prints, then the verdict in `GET /api/status`, in
 * `haven status`, and (for a broken stream) on the status page in Chromium.
 */
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestVerdict } from '@haven/ingest';
import { run, spawnTracked, stopAll, waitFor, type Spawned } from '../helpers/process.js';
import { moveListenersToFreeLoopbackPorts } from '../helpers/loopback-ports.js';
import { mediamtxBin, repoRoot, requireTool } from '../helpers/tools.js';
import { CASES, publishCase, type PublishCase } from './publish.js';

const CLI = path.join(repoRoot, 'examples/docker-app/dist/cli.js');
let dir: string;
let env: NodeJS.ProcessEnv;
let apiPort: number;
let start: Spawned | undefined;
let srtIngest: string;
let mtxApi: number;

const haven = (args: string[]) => run(process.execPath, [CLI, '--dir', dir, ...args], { env, timeoutMs: 30_000 });

interface StreamOut {
  name: string;
  ready: boolean;
  vrchat?: IngestVerdict;
}
async function liveStream(): Promise<StreamOut | undefined> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/api/status`).catch(() => undefined);
  if (!res?.ok) return undefined;
  return ((await res.json()) as { streams: StreamOut[] }).streams.find((s) => s.name === 'live');
}

beforeAll(async () => {
  requireTool('ffmpeg', 'apt-get install -y ffmpeg');
  requireTool('ffprobe', 'apt-get install -y ffmpeg');
  dir = await mkdtemp(path.join(tmpdir(), 'haven-ingest-'));
  env = { ...process.env, MEDIAMTX_BIN: mediamtxBin(), HAVEN_DIR: '' };
  const r = await haven(['init', '--region', 'us-east']);
  expect(r.code, r.stderr).toBe(0);
  // Only the listeners move (to free loopback ports), so the test runs beside other tests.
  ({ api: apiPort, mediamtxApi: mtxApi } = await moveListenersToFreeLoopbackPorts(path.join(dir, 'haven.yaml')));
  start = spawnTracked(process.execPath, [CLI, '--dir', dir, 'start'], { env });
  await waitFor('the origin to be ready', () => start!.output().includes('› ready.'), 60_000);
  const urls = await haven(['urls', '--json']);
  expect(urls.code, urls.stderr).toBe(0);
  srtIngest = (JSON.parse(urls.stdout) as { publish: Array<{ srt: string }> }).publish[0]!.srt;
}, 90_000);

afterAll(async () => {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
});

/** Publish a case until the origin has judged it, return the verdict and `haven status`; then stop. */
async function runCase(c: PublishCase, url = srtIngest, during?: () => Promise<void>): Promise<{ verdict: IngestVerdict; text: string }> {
  const since = Date.now();
  let pub = publishCase(c, url, 60);
  try {
    // OBS reconnects by itself when a connection does not come up; so does this publisher (once).
    const up = await waitFor('the publisher to go live', async () => (await liveStream())?.ready || undefined, 20_000, 250).catch(() => undefined);
    if (!up) {
      console.log(`[${c.name}] not live after 20 s; publisher output: ${pub.output().slice(-500) || '(none)'}; reconnecting it as OBS would`);
      await pub.stop();
      pub = publishCase(c, url, 60);
    }
    const verdict = await waitFor(`the VRChat verdict of "${c.name}"`, async () => {
      const s = await liveStream();
      return s?.ready && s.vrchat && s.vrchat.checkedAt > since ? s.vrchat : undefined;
    }, 60_000, 500).catch(async (err: unknown) => {
      const mtx = async (x: string) => (await fetch(`http://127.0.0.1:${mtxApi}/v3/${x}`)).text();
      console.log(`[${c.name}] paths: ${await mtx('paths/list')}\nsrt: ${await mtx('srtconns/list')}`);
      console.log(`[${c.name}] publisher: ${pub.output().slice(-2000)}\nhaven: ${start!.output().slice(-3000)}`);
      throw err;
    });
    const status = await haven(['status']);
    expect(status.code, status.stderr).toBe(0);
    await during?.();
    console.log(`[${c.name}] haven status:\n${status.stdout.split('\n').filter((l) => /^stream|^\s{2,}/.test(l)).join('\n')}`);
    return { verdict, text: status.stdout };
  } finally {
    await pub.stop();
    await waitFor('the stream to go offline', async () => (await liveStream())?.ready === false, 30_000, 250);
  }
}

const finding = (v: IngestVerdict, rule: string) => v.findings.find((f) => f.rule === rule);

describe('VRChat ingest check on what ffmpeg really publishes', () => {
  it('the OBS URL from `haven urls` goes to the ingest path (audio fix on by default)', () => {
    expect(srtIngest).toMatch(/streamid=publish:ingest\/live:publisher:/);
  });

  it('H.264 + AAC 48 kHz with 1 s keyframes is fine', async () => {
    const { verdict, text } = await runCase(CASES.fine);
    console.log(`[fine] ${JSON.stringify(verdict.facts)}`);
    expect(verdict.level, JSON.stringify(verdict.findings)).toBe('fine');
    expect(verdict.facts.video?.keyframeIntervalSec).toBeCloseTo(1, 0);
    expect(verdict.facts.audio).toMatchObject({ codec: 'MPEG-4 Audio', sampleRate: 48000 });
    expect(text).toMatch(/stream live: LIVE/);
    expect(text).toMatch(/VRChat: VRChat-ready \(PC fine, Quest fine\)/);
  }, 120_000);

  it('Opus audio breaks (published straight to the stream, the audio fix cannot help)', async () => {
    const direct = srtIngest.replace('publish:ingest/live:', 'publish:live:');
    const { verdict, text } = await runCase(CASES.opus, direct);
    expect(verdict.level).toBe('breaks');
    expect(finding(verdict, 'audio-codec')).toMatchObject({ level: 'breaks', fix: expect.stringContaining('Audio Encoder') });
    expect(finding(verdict, 'audio-codec')?.fixedByHaven).toBeUndefined();
    expect(text).toMatch(/does NOT play in VRChat/);
    expect(text).toMatch(/breaks\s+audio is Opus: VRChat PC takes the video alone, viewers hear nothing/);
    expect(text).toMatch(/OBS: Settings → Output → Streaming → Audio Encoder: FFmpeg AAC/);
  }, 120_000);

  it('Opus audio on the ingest URL: the finding stays, marked fixed by the Haven', async () => {
    const { verdict, text } = await runCase(CASES.opus);
    expect(finding(verdict, 'audio-codec')).toMatchObject({ level: 'breaks', fixedByHaven: true });
    expect(verdict.audioFixed).toBe(true);
    expect(verdict.level).toBe('fine');
    expect(text).toMatch(/audio re-encoded to AAC 48 kHz by the Haven/);
    expect(text).toMatch(/fixed\s+audio is Opus/);
  }, 120_000);

  it('44.1 kHz AAC degrades (straight to the stream)', async () => {
    const direct = srtIngest.replace('publish:ingest/live:', 'publish:live:');
    const { verdict, text } = await runCase(CASES.rate44, direct);
    expect(verdict.level).toBe('degrades');
    expect(finding(verdict, 'audio-rate')).toMatchObject({ level: 'degrades', fix: 'Settings → Audio → General → Sample Rate: 48 kHz (then restart OBS)' });
    expect(text).toMatch(/degrades\s+audio at 44\.1 kHz/);
    expect(text).toMatch(/OBS: Settings → Audio → General → Sample Rate: 48 kHz/);
  }, 120_000);

  it('4 s keyframes degrade', async () => {
    const { verdict, text } = await runCase(CASES.gop4);
    expect(finding(verdict, 'keyframe-interval')).toMatchObject({ level: 'degrades' });
    expect(verdict.level).toBe('degrades');
    expect(text).toMatch(/OBS: Settings → Output → Streaming → Keyframe Interval: 1 s/);
  }, 120_000);

  it('300 kbit/s degrades', async () => {
    const { verdict, text } = await runCase(CASES.low);
    console.log(`[low] ${JSON.stringify(verdict.facts)}`);
    expect(finding(verdict, 'bitrate')).toMatchObject({ level: 'degrades' });
    expect(verdict.facts.totalKbps).toBeLessThan(600);
    expect(text).toMatch(/degrades\s+\d+ kbit\/s: below 2,500 kbit\/s/);
    expect(text).toMatch(/OBS: Settings → Output → Streaming → Rate Control: CBR, Bitrate: 2500-6000 Kbps/);
  }, 120_000);

  it('HEVC breaks; the status page in Chromium shows the finding and the OBS setting', async () => {
    const executablePath = requireTool('chromium', 'apt-get install -y chromium');
    const shot = path.join(repoRoot, 'test-artifacts', 'vrchat-check-hevc.png');
    let pageText = '';
    let metrics = '';
    let doctor = '';
    const { verdict, text } = await runCase(CASES.hevc, srtIngest, async () => {
      metrics = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
      const d = await haven(['doctor']);
      doctor = d.stdout;
      // A stream that does not play in VRChat is a failure of the set-up: doctor exits non-zero.
      expect(d.code, d.stderr).toBe(1);
      mkdirSync(path.dirname(shot), { recursive: true });
      const browser = await chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
        await page.goto(`http://127.0.0.1:${apiPort}/`);
        await page.locator('.vrchat-stream[data-level="breaks"]').waitFor({ timeout: 20_000 });
        pageText = (await page.locator('#vrchat').textContent()) ?? '';
        expect(await page.locator('#streams .vrchat-badge').textContent()).toBe('VRChat: does not play');
        await page.locator('#vrchat').scrollIntoViewIfNeeded();
        await page.screenshot({ path: shot, fullPage: true });
      } finally {
        await browser.close();
      }
    });
    expect(finding(verdict, 'video-codec')).toMatchObject({ level: 'breaks' });
    console.log(`[hevc] haven doctor:\n${doctor.split('\n').filter((l) => /VRChat|in OBS/.test(l)).join('\n')}`);
    expect(doctor).toMatch(/✗ stream "live" in VRChat: video is H\.265 \(HEVC\)[^\n]*\n\s+→ in OBS: /);
    expect(verdict.level).toBe('breaks');
    expect(text).toMatch(/breaks\s+video is H\.265 \(HEVC\): VRChat plays the audio only/);
    expect(text).toMatch(/OBS: Settings → Output → Streaming → Video Encoder: x264 or NVIDIA NVENC H\.264/);
    expect(pageText).toContain('video is H.265 (HEVC): VRChat plays the audio only, the screen stays black');
    expect(pageText).toContain('OBS: Settings → Output → Streaming → Video Encoder: x264 or NVIDIA NVENC H.264');
    console.log(`[page] screenshot: ${shot}`);
    // And in the metrics, while live: a gauge per stream and level, and the verdict (2 = breaks).
    expect(metrics).toContain('haven_vrchat_findings{stream="live",level="breaks"} 1');
    expect(metrics).toContain('haven_vrchat_level{stream="live"} 2');
  }, 120_000);

  it('offline streams drop out of the VRChat gauges, and the log holds no internal credential', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
    expect(metrics).toMatch(/# TYPE haven_vrchat_level gauge/);
    expect(metrics).not.toMatch(/haven_vrchat_level\{stream="live"\}/);
    expect(start!.output()).not.toMatch(/haven-internal:[^@\s]+@/);
  });
});
