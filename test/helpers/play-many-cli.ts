// Many MS-RTSP emulator viewers from one process (so they can run inside a network namespace and start
// on time): `node --import tsx test/helpers/play-many-cli.ts <url> <user-agent> <count> <spreadMs> [trigger-file]`.
// With a trigger file, waits (polling every 5 ms, at most 60 s) until it exists, then starts viewer i
// at i * spreadMs / count ms. Prints one JSON array: per viewer its start offset (ms) and PlayResult.
import { existsSync } from 'node:fs';
import { playMsRtsp } from './rtsp-players.js';

const [url, userAgent, countArg, spreadArg, trigger] = process.argv.slice(2);
const count = Number(countArg);
const spread = Number(spreadArg);
if (!url || !userAgent || !(count > 0) || !(spread >= 0)) {
  process.stderr.write('usage: play-many-cli <url> <user-agent> <count> <spreadMs> [trigger-file]\n');
  process.exit(2);
}
if (trigger) {
  const end = Date.now() + 60_000;
  while (!existsSync(trigger)) {
    if (Date.now() > end) {
      process.stderr.write(`no trigger ${trigger} within 60 s\n`);
      process.exit(3);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}
const t0 = Date.now();
const results = await Promise.all(
  Array.from({ length: count }, async (_, i) => {
    await new Promise((r) => setTimeout(r, Math.round((i * spread) / count)));
    const at = Date.now() - t0;
    const r = await playMsRtsp({ url, userAgent, packets: 5, waitMs: 8000 });
    return { at, ...r };
  }),
);
process.stdout.write(JSON.stringify(results));
