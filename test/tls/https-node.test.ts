/**
 * HTTPS without a domain, end to end in network namespaces with a real ACME server:
 * Pebble in its own namespace issues certificates for the IP addresses of an entry node and a serving
 * node through the project's ACME code (acme-client, http-01 answered on each node's port 80).
 * Readers trust only Pebble's issuing root. The serving node plays LL-HLS over HTTPS; the entry
 * answers 302 to the node with a signed token; a renewal under a playing reader swaps the certificate
 * for the next connection without stopping the reader.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/process.js';
import { isRoot, requireTool } from '../helpers/tools.js';
import { testSecrets } from '../mediamtx/harness.js';
import { certified, ready, startMachine, type Machine } from './machines.js';
import { startPebble, type Pebble } from './pebble.js';
import { addMachine, buildTopology, NET, tearDown, type Topology } from './topology.js';
import { launchChromiumIn } from './chromium.js';
import type { Page } from 'playwright-core';

const PREFIX = 'htls';
const S = testSecrets();
const NODE_HLS = 8443;
const nodeUrl = `https://${NET.node}:${NODE_HLS}/live/index.m3u8`;
const viewerAuth = `viewer:${S.viewerPassword}`;

/**
 * What the checks below read in the page. They run in Chromium, but this file is type-checked as Node
 * code (no DOM library in the program), so each page function names the page's globals through this.
 */
interface PageGlobals {
  Hls?: unknown;
  document: {
    querySelector(selector: 'video'): {
      currentTime: number;
      videoWidth: number;
      error: { code: number } | null;
      getVideoPlaybackQuality(): { totalVideoFrames: number; droppedVideoFrames: number };
    } | null;
  };
  /** Counted by the viewer-page test's init script. */
  __seeks?: number;
}

/**
 * Waits until the page's video plays (its clock past 2 s), then counts the frames it presents over 3 s
 * of wall time (playing, not only seeking ahead), and reads what the video says then.
 */
async function watchVideo(page: Page) {
  await waitFor('video playing', async () => (await page.evaluate(() => (globalThis as unknown as PageGlobals).document.querySelector('video')?.currentTime ?? 0)) > 2 || undefined, 60_000, 250);
  const framesNow = () => page.evaluate(() => (globalThis as unknown as PageGlobals).document.querySelector('video')?.getVideoPlaybackQuality().totalVideoFrames ?? 0);
  const f0 = await framesNow();
  await new Promise((r) => setTimeout(r, 3_000));
  const presented = (await framesNow()) - f0;
  const q = await page.evaluate(() => {
    const v = (globalThis as unknown as PageGlobals).document.querySelector('video');
    const pq = v?.getVideoPlaybackQuality();
    return { frames: pq?.totalVideoFrames ?? 0, dropped: pq?.droppedVideoFrames ?? 0, error: v?.error?.code ?? null, w: v?.videoWidth ?? 0, t: v?.currentTime ?? 0, seeks: (globalThis as unknown as PageGlobals).__seeks ?? 0 };
  });
  return { presented, q };
}

describe('HTTPS LL-HLS on nodes with IP-address certificates from an ACME CA (Pebble)', () => {
  let t: Topology;
  let dir: string;
  let pebble: Pebble;
  let node: Machine;
  let entry: Machine;
  let ffmpeg: string;

  beforeAll(async () => {
    if (!isRoot()) throw new Error('test/tls needs root (network namespaces)');
    ffmpeg = requireTool('ffmpeg', 'apt-get install -y ffmpeg');
    requireTool('curl', 'apt-get install -y curl');
    dir = await mkdtemp(path.join(tmpdir(), 'haven-tls-'));
    t = await buildTopology(PREFIX);
    pebble = await startPebble(t.h, t.ns.ca, NET.ca, dir);
    const tls = { mode: 'acme', directoryUrl: pebble.directoryUrl, directoryCaFile: pebble.directoryCaFile, retryDelayMs: 2_000, issueTimeoutMs: 60_000 };
    node = startMachine(t.h, t.ns.node, {
      ip: NET.node,
      name: 'node-b',
      tls: { ...tls, challengeAddress: `${NET.node}:80` },
      serve: { hlsPort: NODE_HLS, rtspPort: 8554, publishSeconds: 600 },
    });
    entry = startMachine(t.h, t.ns.entry, {
      ip: NET.entry,
      name: 'entry-a',
      tls: { ...tls, challengeAddress: `${NET.entry}:80` },
      gateway: { port: 443, target: { node: 'node-b', hlsBase: `https://${NET.node}:${NODE_HLS}` } },
    });
    await Promise.all([ready(node, 90_000), ready(entry, 90_000)]);
  }, 240_000);

  afterAll(() => tearDown(PREFIX, t, [node, entry], dir), 90_000);

  /**
   * The node has the stream and its HLS muxer is up: MediaMTX creates a muxer on the first request and
   * answers "muxer is waiting to be created" until then (players ask again; ffmpeg gives up at once).
   */
  const streamReady = async () => {
    await waitFor('node has the stream', async () => ((await node.ask('status', 'status')).node as { ready?: boolean } | undefined)?.ready || undefined, 60_000, 500);
    await waitFor('node serves the HLS playlist', async () => {
      const r = await inViewer('curl', ['-sS', '-L', '-c', '/dev/null', '--cacert', pebble.rootFile, `https://${viewerAuth}@${NET.node}:${NODE_HLS}/live/index.m3u8`]).catch(() => undefined);
      return (r && /#EXTM3U/.test(r.stdout)) || undefined;
    }, 60_000, 500);
  };
  const inViewer = (cmd: string, args: string[], timeoutMs = 60_000) => t.h.exec(t.ns.viewer, cmd, args, { timeoutMs });
  const serialAt = async (hostPort: string): Promise<string> => {
    const r = await inViewer('sh', ['-c', `echo | openssl s_client -connect ${hostPort} -CAfile ${pebble.rootFile} -verify_return_error 2>/dev/null | openssl x509 -noout -serial`]);
    const m = /serial=([0-9A-F]+)/i.exec(r.stdout);
    if (!m) throw new Error(`no verified certificate at ${hostPort}: ${r.stdout} ${r.stderr}`);
    return (m[1] as string).toUpperCase().replace(/^0+/, '');
  };
  /** ffmpeg reading `url` for `seconds`, trusting only Pebble's root; frames decoded. */
  const readHls = async (url: string, seconds: number, caFile = pebble.rootFile) => {
    const r = await inViewer(
      ffmpeg,
      ['-hide_banner', '-loglevel', 'error', '-nostats', '-ca_file', caFile, '-tls_verify', '1', '-i', url, '-t', String(seconds), '-map', '0:v', '-f', 'null', '-progress', 'pipe:1', '-'],
      (seconds + 60) * 1000,
    );
    const frames = Math.max(0, ...[...r.stdout.matchAll(/^frame=(\d+)/gm)].map((m) => Number(m[1])));
    return { code: r.code, frames, stderr: r.stderr };
  };

  it('the node and the entry get certificates for their IP addresses from Pebble, through the project ACME code', async () => {
    const [n, e] = await Promise.all([certified(node), certified(entry)]);
    for (const st of [n, e]) {
      // Pebble's VA fetched the key authorization from the machine's port 80 (real http-01).
      expect(st.challengesServed).toBeGreaterThanOrEqual(1);
      expect(st.certificate.selfSigned).toBe(false);
      expect(st.certificate.issuer).toMatch(/Pebble/i);
      // The shortlived profile of Pebble's config: 518400 s (Let's Encrypt's is 160 h).
      const life = Date.parse(st.certificate.notAfter) - Date.parse(st.certificate.notBefore);
      expect(life).toBeLessThanOrEqual(518_400_000 + 1_000);
      // Renewal is due with a third of the lifetime left.
      expect(Math.abs(Date.parse(st.renewAt!) - (Date.parse(st.certificate.notAfter) - life / 3))).toBeLessThan(1_000);
    }
    // MediaMTX and the entry's door load a new certificate file when they see it change (asynchronously):
    // wait until the one served on the wire is the one issued.
    const served = (hostPort: string, serial: string) =>
      waitFor(`${hostPort} to serve certificate ${serial}`, async () => ((await serialAt(hostPort).catch(() => '')) === serial ? true : undefined), 30_000, 500);
    await served(`${NET.node}:${NODE_HLS}`, n.certificate.serial.replace(/^0+/, ''));
    await served(`${NET.entry}:443`, e.certificate.serial.replace(/^0+/, ''));
  }, 200_000);

  it('ffmpeg trusting only Pebble\'s root reads the stream over HTTPS from the node (and refuses without it)', async () => {
    await streamReady();
    const ok = await readHls(`https://${viewerAuth}@${NET.node}:${NODE_HLS}/live/index.m3u8`, 3);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.frames).toBeGreaterThan(20);
    // Pebble's minica signs Pebble's own listener, not nodes: with it as the only CA the handshake fails.
    const wrongCa = await readHls(`https://${viewerAuth}@${NET.node}:${NODE_HLS}/live/index.m3u8`, 2, pebble.directoryCaFile);
    expect(wrongCa.code).not.toBe(0);
    expect(wrongCa.frames).toBe(0);
  }, 180_000);

  it('Chromium trusting only Pebble\'s root plays the stream over HTTPS with hls.js (MediaMTX\'s page)', async () => {
    await streamReady();
    const browser = await launchChromiumIn(t.ns.viewer, dir, pebble.rootFile);
    try {
      const ctx = await browser.newContext({ httpCredentials: { username: 'viewer', password: S.viewerPassword } });
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      const resp = await page.goto(`https://${NET.node}:${NODE_HLS}/live/`, { timeout: 60_000 });
      expect(resp?.status()).toBe(200);
      expect(await page.evaluate(() => typeof (globalThis as unknown as PageGlobals).Hls)).toBe('function');
      // Playing: the video's clock advances past 2 s, then keeps advancing; frames presented, no media error.
      const { presented, q } = await watchVideo(page);
      expect(q).toMatchObject({ error: null, w: 320 });
      expect(presented, JSON.stringify(q)).toBeGreaterThan(20);
      expect(q.frames).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
    // The same Chromium without Pebble's root in its store refuses the node's certificate.
    const bare = await launchChromiumIn(t.ns.viewer, dir, undefined);
    try {
      const page = await (await bare.newContext({ httpCredentials: { username: 'viewer', password: S.viewerPassword } })).newPage();
      const refused = await page.goto(`https://${NET.node}:${NODE_HLS}/live/`, { timeout: 30_000 }).then(() => 'loaded', (e: unknown) => String(e));
      expect(refused).toMatch(/ERR_CERT/);
    } finally {
      await bare.close();
    }
  }, 180_000);

  it('the entry answers 302 to the node with a token; the reader plays there; the token is refused from another address and after expiry', async () => {
    const r = await inViewer('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '--cacert', pebble.rootFile, '-u', viewerAuth, `https://${NET.entry}/live/index.m3u8`]);
    const [code, location] = r.stdout.trim().split(' ');
    expect(code, r.stderr).toBe('302');
    expect(location).toMatch(new RegExp(`^https://${NET.node.replace(/\./g, '\\.')}:${NODE_HLS}/live/index\\.m3u8\\?token=v2\\.`));
    expect(location).not.toContain(S.viewerPassword);
    // Without the password: 401, no redirect.
    const anon = await inViewer('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', pebble.rootFile, `https://${NET.entry}/live/index.m3u8`]);
    expect(anon.stdout).toBe('401');
    // The token from the viewer's own address opens the playlist (curl follows MediaMTX's cookie check).
    const own = await inViewer('curl', ['-sS', '-L', '-c', '/dev/null', '--interface', NET.viewer, '--cacert', pebble.rootFile, location as string]);
    expect(own.stdout, own.stderr).toMatch(/#EXTM3U/);
    // The same token from another address: refused.
    const other = await inViewer('curl', ['-sS', '-L', '-o', '/dev/null', '-w', '%{http_code}', '--interface', NET.other, '--cacert', pebble.rootFile, location as string]);
    expect(other.stdout).toBe('401');
    // ffmpeg given only the entry URL follows the 302 and reads at the node (media never touches the entry).
    const viaEntry = await readHls(`https://${viewerAuth}@${NET.entry}/live/index.m3u8`, 3);
    expect(viaEntry.code, viaEntry.stderr).toBe(0);
    expect(viaEntry.frames).toBeGreaterThan(20);
    // A node's own HTTPS entry (the plugin's, on :443) sends a viewer to its own HTTPS playlist the same way.
    const self = await inViewer('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '--cacert', pebble.rootFile, '-u', viewerAuth, `https://${NET.node}/live/index.m3u8`]);
    const [selfCode, selfLocation] = self.stdout.trim().split(' ');
    expect(selfCode, self.stderr).toBe('302');
    expect(selfLocation).toMatch(new RegExp(`^https://${NET.node.replace(/\./g, '\\.')}:${NODE_HLS}/live/index\\.m3u8\\?token=v2\\.`));
    const selfPlay = await inViewer('curl', ['-sS', '-L', '-c', '/dev/null', '--cacert', pebble.rootFile, selfLocation as string]);
    expect(selfPlay.stdout, selfPlay.stderr).toMatch(/#EXTM3U/);
    // After its 5 s lifetime the token opens no new session.
    const exp = Number.parseInt((location as string).split('token=v2.')[1]!.split('.')[0]!, 36) * 1000;
    await waitFor('token expiry', () => Date.now() > exp + 1_000 || undefined, 20_000, 200);
    const late = await inViewer('curl', ['-sS', '-L', '-o', '/dev/null', '-w', '%{http_code}', '--interface', NET.viewer, '--cacert', pebble.rootFile, location as string]);
    expect(late.stdout).toBe('401');
  }, 180_000);

  it('the entry\'s viewer page plays in Chromium (hls.js from the entry, media from the node, nothing else); page and scripts need the viewer password', async () => {
    await streamReady();
    // A home of its own: the NSS database of the test above is made once per folder.
    const browser = await launchChromiumIn(t.ns.viewer, path.join(dir, 'viewer-page'), pebble.rootFile);
    try {
      const page = await (await browser.newContext({ httpCredentials: { username: 'viewer', password: S.viewerPassword } })).newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      // A policy violation is reported on the console: none may happen.
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      const origins = new Set<string>();
      const fromEntry = new Set<string>();
      page.on('request', (r) => {
        const u = new URL(r.url());
        if (u.protocol === 'blob:' || u.protocol === 'data:') return;
        origins.add(u.origin);
        if (u.origin === `https://${NET.entry}`) fromEntry.add(u.pathname);
      });
      // Seeks the player makes (the page's own to its live sync position, hls.js's when it falls behind).
      await page.addInitScript('window.__seeks = 0; document.addEventListener("seeking", () => { window.__seeks++; }, true);');
      const resp = await page.goto(`https://${NET.entry}/live/`, { timeout: 60_000 });
      expect(resp?.status()).toBe(200);
      expect(resp?.headers()['content-security-policy']).toMatch(/script-src 'self';/);
      const { presented, q } = await watchVideo(page);
      expect(q).toMatchObject({ error: null, w: 320 });
      expect(presented, JSON.stringify(q)).toBeGreaterThan(20);
      expect(errors).toEqual([]);
      // The page, its two scripts and the playlist from the entry (302 with a token); parts and segments from the node.
      expect([...fromEntry].sort()).toEqual(['/live/', '/live/hls.min.js', '/live/index.m3u8', '/live/player.js']);
      expect([...origins].sort()).toEqual([`https://${NET.entry}`, `https://${NET.node}:${NODE_HLS}`]);
      // Without the viewer password the page and both scripts are refused, and nothing of them is sent:
      // asked by the browser from a page of the entry's origin that needs none (a 404), so a 401 comes
      // back to the script instead of a login prompt.
      const anonPage = await (await browser.newContext()).newPage();
      expect((await anonPage.goto(`https://${NET.entry}/nothing-here`, { timeout: 30_000 }))?.status()).toBe(404);
      const refused = (await anonPage.evaluate(`Promise.all(['/live/', '/live/player.js', '/live/hls.min.js'].flatMap((p) => [
        fetch(p, { credentials: 'omit' }).then(async (r) => [p, 'none', r.status, await r.text()]),
        fetch(p, { credentials: 'omit', headers: { authorization: 'Basic ' + btoa('viewer:wrong-password-1234') } }).then(async (r) => [p, 'wrong', r.status, await r.text()]),
      ]))`)) as Array<[string, string, number, string]>;
      expect(refused).toHaveLength(6);
      for (const [p, how, status, body] of refused) {
        expect(status, `${p} ${how}`).toBe(401);
        expect(body, `${p} ${how}`).not.toMatch(/<script|Hls|liveSync/);
      }
    } finally {
      await browser.close();
    }
  }, 180_000);

  it('challenge requests for another token or another address get 404 and show in the node status; rtspt keeps serving', async () => {
    await streamReady();
    const base = `http://${NET.node}/.well-known/acme-challenge/`;
    const unknown = await inViewer('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `${base}not-a-pending-token`]);
    expect(unknown.stdout).toBe('404');
    const otherHost = await inViewer('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: 192.0.2.55', `${base}x`]);
    expect(otherHost.stdout).toBe('404');
    const st = (await node.ask('status', 'status')).status as { challengeRefusals: { total: number; recent: Array<{ reason: string; from: string }> } };
    expect(st.challengeRefusals.total).toBeGreaterThanOrEqual(2);
    expect(st.challengeRefusals.recent.slice(-2).map((r) => [r.reason, r.from])).toEqual([
      ['unknown-token', NET.viewer],
      ['wrong-host', NET.viewer],
    ]);
    // The node's rtspt door (RTSP over TCP, the PC URL) is untouched by all of it.
    const probe = await inViewer(requireTool('ffprobe', 'apt-get install -y ffmpeg'), ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', `rtsp://${viewerAuth}@${NET.node}:8554/live`]);
    expect(probe.stdout, probe.stderr).toMatch(/h264/);
  }, 120_000);

  it('a node whose ACME server does not answer: a clear status, a placeholder on HTTPS, rtspt serving all along', async () => {
    const ns = await addMachine(t, 'broken', `${NET.broken}/24`);
    const broken = startMachine(t.h, ns, {
      ip: NET.broken,
      name: 'node-c',
      // Nothing listens there: every request is refused, acme-client retries, the issuance times out.
      tls: { mode: 'acme', directoryUrl: `https://${NET.ca}:14999/dir`, directoryCaFile: pebble.directoryCaFile, challengeAddress: `${NET.broken}:80`, issueTimeoutMs: 4_000, retryDelayMs: 60_000 },
      serve: { hlsPort: NODE_HLS, rtspPort: 8554, publishSeconds: 120 },
    });
    try {
      await ready(broken, 90_000);
      const st = await waitFor('ACME error in the status', async () => {
        const s = (await broken.ask('status', 'status')).status as { state: string; error?: string; certificate?: { selfSigned: boolean } };
        return s.state === 'error' ? s : undefined;
      }, 60_000, 500);
      expect(st.error).toMatch(new RegExp(`ACME issuance failed for ${NET.broken.replace(/\./g, '\\.')} at https://${NET.ca.replace(/\./g, '\\.')}:14999/dir: the ACME server did not complete the order within 4 s.*retrying in 60 s \\(HTTPS serves a self-signed placeholder`));
      expect(st.certificate?.selfSigned).toBe(true);
      // HTTPS answers with the placeholder, which a reader trusting Pebble's root refuses.
      const https = await inViewer('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', pebble.rootFile, `https://${NET.broken}:${NODE_HLS}/live/index.m3u8`]);
      expect(https.code).not.toBe(0);
      // rtspt plays.
      await waitFor('node-c has the stream', async () => ((await broken.ask('status', 'status')).node as { ready?: boolean } | undefined)?.ready || undefined, 60_000, 500);
      const probe = await inViewer(requireTool('ffprobe', 'apt-get install -y ffmpeg'), ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', `rtsp://${viewerAuth}@${NET.broken}:8554/live`]);
      expect(probe.stdout, probe.stderr).toMatch(/h264/);
    } finally {
      await broken.stop();
    }
  }, 180_000);

  it('tls: files with a certificate for another address: refused with a clear status, never installed; rtspt serving', async () => {
    const ns = await addMachine(t, 'wrongcert', `${NET.wrongCert}/24`);
    const keyFile = path.join(dir, 'other.key');
    const certFile = path.join(dir, 'other.pem');
    const made = await t.h.exec(ns, 'openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=other', '-addext', 'subjectAltName=IP:192.0.2.77']);
    expect(made.code, made.stderr).toBe(0);
    const m = startMachine(t.h, ns, { ip: NET.wrongCert, name: 'node-d', tls: { mode: 'files', certFile, keyFile }, serve: { hlsPort: NODE_HLS, rtspPort: 8554, publishSeconds: 120 } });
    try {
      await ready(m, 90_000);
      const st = await waitFor('files error in the status', async () => {
        const s = (await m.ask('status', 'status')).status as { state: string; error?: string; certificate?: { selfSigned: boolean; serial: string } };
        return s.state === 'error' ? s : undefined;
      }, 30_000, 300);
      expect(st.error).toBe(
        `tls.certFile ${certFile} / tls.keyFile ${keyFile}: the certificate is for 192.0.2.77, not this node's address ${NET.wrongCert}; get one whose subjectAltName is IP:${NET.wrongCert} (not installed; HTTPS serves a self-signed placeholder)`,
      );
      expect(st.certificate?.selfSigned).toBe(true);
      await waitFor('node-d has the stream', async () => ((await m.ask('status', 'status')).node as { ready?: boolean } | undefined)?.ready || undefined, 60_000, 500);
      const probe = await inViewer(requireTool('ffprobe', 'apt-get install -y ffmpeg'), ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', `rtsp://${viewerAuth}@${NET.wrongCert}:8554/live`]);
      expect(probe.stdout, probe.stderr).toMatch(/h264/);
    } finally {
      await m.stop();
    }
  }, 180_000);

  it('a forced renewal while a reader plays: the reader keeps playing, the next connection gets the new certificate', async () => {
    await Promise.all([certified(node), certified(entry), streamReady()]);
    const before = await serialAt(`${NET.node}:${NODE_HLS}`);
    const reader = t.h.spawn(t.ns.viewer, ffmpeg, [
      '-hide_banner', '-loglevel', 'error', '-nostats', '-ca_file', pebble.rootFile, '-tls_verify', '1',
      '-i', `https://${viewerAuth}@${NET.node}:${NODE_HLS}/live/index.m3u8`, '-t', '16', '-map', '0:v', '-f', 'null', '-progress', 'pipe:1', '-',
    ]);
    const frames = () => Math.max(0, ...[...reader.output().matchAll(/^frame=(\d+)/gm)].map((m) => Number(m[1])));
    await waitFor('reader playing', () => frames() > 15 || undefined, 60_000, 200);
    const renewed = (await node.ask('renew', 'renewed', 120_000)).renewed as { state: string; error?: string; certificate: { serial: string } };
    expect(renewed.state, JSON.stringify(renewed)).toBe('valid');
    const atRenewal = frames();
    const after = await waitFor(
      'new certificate served',
      async () => {
        const s = await serialAt(`${NET.node}:${NODE_HLS}`).catch(() => undefined);
        return s && s !== before ? s : undefined;
      },
      30_000,
      500,
    );
    expect(after).toBe(renewed.certificate.serial.replace(/^0+/, ''));
    const code = await reader.exited;
    expect(code, reader.output().slice(-2000)).toBe(0);
    // 16 s at 15 fps: it kept decoding after the renewal (well past the frames it had then).
    expect(frames()).toBeGreaterThan(atRenewal + 30);
    // The entry's own renewal reaches its HTTPS door too.
    const entryBefore = await serialAt(`${NET.entry}:443`);
    const er = (await entry.ask('renew', 'renewed', 120_000)).renewed as { certificate: { serial: string } };
    const entryAfter = await waitFor('entry serves the new certificate', async () => {
      const s = await serialAt(`${NET.entry}:443`).catch(() => undefined);
      return s && s !== entryBefore ? s : undefined;
    }, 30_000, 500);
    expect(entryAfter).toBe(er.certificate.serial.replace(/^0+/, ''));
  }, 240_000);
});
