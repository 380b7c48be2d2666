/**
 * A browser LL-HLS reader for the latency bench: Debian's Chromium (playwright-core, as in test/api)
 * on an hls.js page (the bench opens the node's viewer page on its HTTPS entry; MediaMTX's own page
 * works the same way), trusting exactly the given certificate (its public key via
 * --ignore-certificate-errors-spki-list). Each frame the page presents is sampled
 * (requestVideoFrameCallback → 16×16 canvas); the wall time of each black→white change is kept.
 * `state()` reads hls.js's own view (its latency, the latency it aims at, its buffer): a page keeps
 * its player in a closure, so a subclass put in place of `window.Hls` as the page loads remembers the
 * instance; the page's config is left as it is. Everything runs through CDP's evaluate, which the
 * page's Content-Security-Policy (no eval) does not apply to.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitFor } from '../helpers/process.js';
import { requireTool } from '../helpers/tools.js';

/** hls.js's own view of where it plays (its public `latency`/`targetLatency` and the level's LL-HLS timing). */
export interface HlsJsState {
  /** Seconds behind the live edge as hls.js computes it (playlist edge plus its age, minus the playhead). */
  latency: number;
  /** What it aims at: PART-HOLD-BACK, plus `liveSyncOnStallIncrease` per stall (at most one target duration; the viewer page: a part target, for 15 s). */
  targetLatency: number;
  partHoldBack: number;
  partTarget: number;
  targetDuration: number;
  /** Seconds buffered ahead of the playhead: hls.js plays faster to catch up only while this is over 1 s (the viewer page seeks instead). */
  forwardBuffer: number;
  playbackRate: number;
}

export interface BrowserReader {
  /** Wall-clock ms of each black→white frame presented. */
  brightAt(): Promise<number[]>;
  /** Frames presented so far. */
  frames(): Promise<number>;
  state(): Promise<HlsJsState>;
  close(): Promise<void>;
}

export async function hlsJsReader(pageUrl: string, certPem: string, auth: { username: string; password: string }): Promise<BrowserReader> {
  const exe = requireTool('chromium', 'apt-get install -y chromium');
  const spki = createHash('sha256').update(new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  const browser: Browser = await chromium.launch({
    executablePath: exe,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--autoplay-policy=no-user-gesture-required', `--ignore-certificate-errors-spki-list=${spki}`],
  });
  try {
    const page: Page = await (await browser.newContext({ httpCredentials: auth })).newPage();
    // What the page said and which of its requests failed, for the error when it never plays.
    const said: string[] = [];
    page.on('console', (m) => said.push(`console.${m.type()}: ${m.text()}`.slice(0, 300)));
    page.on('response', (r) => {
      if (r.status() >= 400) said.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    page.on('requestfailed', (r) => said.push(`failed ${new URL(r.url()).pathname}: ${r.failure()?.errorText ?? ''}`));
    await page.addInitScript(`(() => {
      let H;
      Object.defineProperty(window, 'Hls', { configurable: true, get: () => H, set: (v) => {
        H = class extends v { constructor(c) { super(c); window.__hls = this; } };
      } });
    })()`);
    // A viewer whose page shows nothing reloads it: once, after 30 s, and says so (the benchmark prints it with its figures).
    let reloads = 0;
    for (;;) {
      await page.goto(pageUrl, { timeout: 60_000 });
      try {
        // Polled with evaluate: waitForFunction evaluates its predicate with eval, which the page's CSP refuses.
        await waitFor('the page plays', async () => ((await page.evaluate("document.querySelector('video')?.currentTime ?? 0")) as number) > 0.5 || undefined, 30_000, 100);
        break;
      } catch (err) {
        if (reloads++ >= 1) {
          const state = await page.evaluate(`(() => { const v = document.querySelector('video'); const h = window.__hls; return JSON.stringify({ currentTime: v?.currentTime, readyState: v?.readyState, error: v?.error?.message, buffered: v && v.buffered.length ? [v.buffered.start(0), v.buffered.end(v.buffered.length - 1)] : [], hlsLevels: h?.levels?.length, hlsLatency: h?.latency }); })()`).catch(() => 'n/a');
          throw new Error(`the hls.js page at ${new URL(pageUrl).pathname} did not play within 30 s, twice; video: ${String(state)}; the page said (last 15): ${said.slice(-15).join(' | ')}`, { cause: err });
        }
        process.stderr.write(`hls.js page did not start playing within 30 s: reloading it once\n`);
      }
    }
    // A string, not a function: tsx's transform would add helpers the page does not have.
    await page.evaluate(`(() => {
      window.__bright = [];
      window.__frames = 0;
      const v = document.querySelector('video');
      const c = document.createElement('canvas');
      c.width = 16;
      c.height = 16;
      const g = c.getContext('2d', { willReadFrequently: true });
      let was = false;
      const cb = (now) => {
        g.drawImage(v, 0, 0, 16, 16);
        const d = g.getImageData(0, 0, 16, 16).data;
        let s = 0;
        for (let i = 0; i < d.length; i += 4) s += d[i];
        const bright = s / (d.length / 4) > 128;
        if (bright && !was) window.__bright.push(performance.timeOrigin + now);
        was = bright;
        window.__frames++;
        v.requestVideoFrameCallback(cb);
      };
      v.requestVideoFrameCallback(cb);
    })()`);
    return {
      brightAt: () => page.evaluate('window.__bright.slice()') as Promise<number[]>,
      frames: () => page.evaluate('window.__frames') as Promise<number>,
      state: () =>
        page.evaluate(`(() => {
          const h = window.__hls;
          const v = document.querySelector('video');
          const d = h.levels[h.currentLevel < 0 ? 0 : h.currentLevel].details;
          const b = v.buffered;
          return { latency: h.latency, targetLatency: h.targetLatency, partHoldBack: d.partHoldBack, partTarget: d.partTarget, targetDuration: d.targetduration, forwardBuffer: b.length ? b.end(b.length - 1) - v.currentTime : 0, playbackRate: v.playbackRate };
        })()`) as Promise<HlsJsState>,
      close: () => browser.close(),
    };
  } catch (err) {
    await browser.close();
    throw err;
  }
}
