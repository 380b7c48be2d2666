import { afterAll, it } from 'vitest';
import { stopAll, waitFor } from '../helpers/process.js';
import { publishRtmp, startMediamtx, testSecrets, type Started } from './harness.js';
const S = testSecrets();
let o: Started;
afterAll(async () => { await o?.stop(); await stopAll(); });
it('hls', async () => {
  o = await startMediamtx();
  publishRtmp(o.ports.rtmp, 'live', `user=publisher&pass=${S.streamKey}`, 30);
  await waitFor('ready', async () => (await o.server.stats('live')).ready || undefined, 30000, 200);
  const url = `http://127.0.0.1:${o.ports.hls}/live/index.m3u8`;
  const h = { authorization: `Basic ${Buffer.from(`viewer:${S.viewerPassword}`).toString('base64')}` };
  console.log('noauth', (await fetch(url)).status);
  console.log('wrong', (await fetch(url, { headers: { authorization: `Basic ${Buffer.from('viewer:nopenopenope').toString('base64')}` } })).status);
  for (let i = 0; i < 5; i++) {
    const r = await fetch(url, { headers: h });
    console.log(i, r.status, (await r.text()).slice(0, 100));
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log(o.logs().split('\n').filter(l => /HLS|auth|ERR|WAR/.test(l)).join('\n'));
});
