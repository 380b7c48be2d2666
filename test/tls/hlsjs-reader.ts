/**
 * A browser LL-HLS reader for the latency bench: Debian's Chromium (playwright-core, as in test/api)
 * on MediaMTX's own player page (hls.js, low-latency mode on by default), trusting exactly the given
 * certificate (its public key via --ignore-certificate-errors-spki-list). Each frame the page
 * presents is sampled (requestVideoFrameCallback → 16×16 canvas); the wall time of each black→white
 * change is kept.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { requireTool } from '../helpers/tools.js';

export interface BrowserReader {
  /** Wall-clock ms of each black→white frame presented. */
  brightAt(): Promise<number[]>;
  /** Frames presented so far. */
  frames(): Promise<number>;
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
    await page.goto(pageUrl, { timeout: 60_000 });
    await page.waitForFunction("(document.querySelector('video')?.currentTime ?? 0) > 0.5", undefined, { timeout: 60_000 });
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
      close: () => browser.close(),
    };
  } catch (err) {
    await browser.close();
    throw err;
  }
}
