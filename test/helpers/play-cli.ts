// Run one player emulator as its own process (so it can run inside a network namespace):
// `node --import tsx test/helpers/play-cli.ts media3|ms-rtsp|give-up <url> <user-agent>`; prints the PlayResult as JSON.
import { playMedia3, playMsRtsp } from './rtsp-players.js';

const [kind, url, userAgent] = process.argv.slice(2);
if (!kind || !url || !userAgent) {
  process.stderr.write('usage: play-cli media3|ms-rtsp|give-up <url> <user-agent>\n');
  process.exit(2);
}
const r =
  kind === 'media3'
    ? await playMedia3({ url, userAgent })
    : await playMsRtsp({ url, userAgent, onRedirect: kind === 'give-up' ? 'give-up' : 'follow' });
process.stdout.write(JSON.stringify(r));
