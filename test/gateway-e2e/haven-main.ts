// The Haven of setup.ts as its own process (run inside a network namespace by the capture test):
// `node --import tsx test/gateway-e2e/haven-main.ts <host> <viewer-ip>...`. Prints one JSON line
// when ready, then one per routing decision. SIGUSR2 kills the `par` node's MediaMTX; SIGTERM stops.
import { startHaven } from './setup.js';

const [host, ...paris] = process.argv.slice(2);
const h = await startHaven({ learnMinSamples: 1, learnMinPrefixes: 1, followDeadlineMs: 3000, sameConnectionMs: 10_000 }, {}, { ...(host ? { host } : {}), paris });
process.stdout.write(`${JSON.stringify({ ready: true, rtspPort: h.rtspPort, par: h.nodes.par.rtspPort, fra: h.nodes.fra.rtspPort })}\n`);
let printed = 0;
const tick = setInterval(() => {
  for (; printed < h.routed.length; printed++) {
    const e = h.routed[printed];
    if (e) process.stdout.write(`${JSON.stringify({ routed: { node: e.node, mode: e.mode, reason: e.reason, userAgent: e.userAgent, auth: e.auth } })}\n`);
  }
}, 100);
process.on('SIGUSR2', () => void h.nodes.par.proc.stop('SIGKILL'));
process.once('SIGTERM', () => {
  clearInterval(tick);
  void h.stop().finally(() => process.exit(0));
});
