import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The viewer page of a stream on the HTTPS entry: `/<stream>/` (where MediaMTX keeps its own page),
 * next to the playlist it plays. Its script and hls.js are served from the same folder, from this
 * package's own hls.js dependency (no third-party origin), so one Content-Security-Policy names every
 * origin the page may talk to: itself and the node its playlist is redirected to.
 *
 * Why a page of our own: hls.js starts 0.6-0.9 s behind its own target (PART-HOLD-BACK) because the
 * live edge moves on while it loads the init segment and the first parts, and it only plays faster
 * while over 1 s is buffered ahead, so below ~1 s behind live it stays wherever it started. This page
 * seeks to `liveSyncPosition` once it plays, and sets `liveMaxLatencyDuration` so hls.js jumps back
 * to its target (on each playlist update) when it falls behind by more than a few parts.
 */

/** Files of the viewer page, by their name in the stream's folder (`''` is the page itself). */
export type ViewerPageFile = '' | 'player.js' | 'hls.min.js';

const STYLE = 'html,body{margin:0;height:100%;background:#111;color:#eee;font:16px sans-serif}video{width:100%;height:100%;display:block}#message{position:absolute;inset:0;display:flex;align-items:center;justify-content:center;pointer-events:none;text-shadow:0 0 4px #000}';
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/**
 * The player: hls.js in low-latency mode aiming at the playlist's PART-HOLD-BACK (its default with
 * `lowLatencyMode`). Once the playlist's timing is known, `liveMaxLatencyDuration` is set a few parts
 * above that aim (hls.js checks it on each playlist update and seeks to `liveSyncPosition` when the
 * playhead is further behind the edge), and a stall moves the aim one part, not hls.js's default 1 s,
 * and only until the playback has run QUIET_S seconds without one.
 * On its first frame the page seeks to `liveSyncPosition` itself: the edge has moved on while it loaded.
 */
const QUIET_S = 15;
const PLAYER = `'use strict';
(() => {
  const video = document.getElementById('video');
  const message = document.getElementById('message');
  const say = (text) => { message.textContent = text; };
  if (!window.Hls || !window.Hls.isSupported()) {
    if (video.canPlayType('application/vnd.apple.mpegurl')) { video.src = 'index.m3u8'; video.play().catch(() => say('Press play to start')); }
    else say('This browser cannot play HLS');
    return;
  }
  const hls = new window.Hls({ lowLatencyMode: true, enableWorker: false, maxLiveSyncPlaybackRate: 1.5, backBufferLength: 10 });
  let aim = 0;
  let stalledAt = 0;
  hls.on(window.Hls.Events.LEVEL_LOADED, (_e, data) => {
    const d = data.details;
    if (aim || !d.live || !d.partTarget) return;
    aim = d.partHoldBack || 3 * d.partTarget;
    hls.config.liveMaxLatencyDuration = aim + 4 * d.partTarget;
    hls.config.liveSyncOnStallIncrease = d.partTarget;
  });
  // A stall (a part late, the machine busy) moves the aim back one part, for good in hls.js; after
  // ${QUIET_S} s without one it returns to PART-HOLD-BACK (and liveMaxLatencyDuration brings the playhead there).
  setInterval(() => {
    if (aim && Date.now() - stalledAt > ${QUIET_S * 1000} && hls.targetLatency !== null && hls.targetLatency > aim + 0.01) hls.targetLatency = aim;
  }, 1000);
  let synced = false;
  video.addEventListener('playing', () => {
    if (synced) return;
    synced = true;
    const at = hls.liveSyncPosition;
    if (at !== null && at > video.currentTime + 0.05) video.currentTime = at;
  });
  hls.on(window.Hls.Events.ERROR, (_e, data) => {
    if (data.details === window.Hls.ErrorDetails.BUFFER_STALLED_ERROR) stalledAt = Date.now();
    if (!data.fatal) return;
    if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) { hls.recoverMediaError(); return; }
    say('The stream is not available right now; retrying');
    setTimeout(() => { say(''); hls.loadSource('index.m3u8'); }, 2000);
  });
  hls.loadSource('index.m3u8');
  hls.attachMedia(video);
  video.muted = true;
  // Muted, so the browser lets it start on its own; the controls unmute it.
  video.play().catch(() => say('Press play to start'));
})();
`;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(stream: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(stream)}</title>
<style>${STYLE}</style>
</head>
<body>
<video id="video" playsinline controls></video>
<div id="message"></div>
<script src="hls.min.js"></script>
<script src="player.js"></script>
</body>
</html>
`;
}

let hlsJs: Buffer | undefined;
/** hls.js as its package ships it, read once (found through this package's own resolution). */
function hlsJsFile(): Buffer {
  hlsJs ??= readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));
  return hlsJs;
}

/**
 * The page's policy: scripts from its own folder only, its one inline style by hash, media through
 * MSE (blob:) or native HLS, requests to itself and to `mediaOrigin` (the node its playlist is redirected to).
 */
function viewerPagePolicy(mediaOrigin: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src ${STYLE_HASH}`,
    // MSE plays from blob: URLs; a browser with native HLS only (iOS) plays the playlist's own URLs.
    `media-src blob: 'self' ${mediaOrigin}`,
    `connect-src 'self' ${mediaOrigin}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Body and headers of one file of the viewer page; `mediaOrigin` is named by the page's policy only. */
export function viewerPageFile(file: ViewerPageFile, stream: string, mediaOrigin: string): { body: Buffer | string; headers: Record<string, string> } {
  const common = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cross-origin-resource-policy': 'same-origin' };
  if (file === 'player.js') return { body: PLAYER, headers: { ...common, 'content-type': 'text/javascript; charset=utf-8' } };
  // hls.js changes only with this package: a viewer's browser keeps it for an hour (private: it sits behind the viewer check).
  if (file === 'hls.min.js') return { body: hlsJsFile(), headers: { ...common, 'cache-control': 'private, max-age=3600', 'content-type': 'text/javascript; charset=utf-8' } };
  return { body: page(stream), headers: { ...common, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': viewerPagePolicy(mediaOrigin) } };
}
