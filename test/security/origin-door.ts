import { originConfigSchema } from '@haven/core';
import { createOriginRouting, type RoutingStack } from '@haven/gateway';
import { freePort, stopAll, waitFor } from '../helpers/process.js';
import { mtxPathReady, PUBLISHER, startAuthHook, startMediamtx, startPublisher, VIEWER } from '../gateway/helpers.js';

export interface OriginDoor {
  stack: RoutingStack;
  rtspPort: number;
  /** Stops the doors, MediaMTX, the publisher and the auth hook (also after a failed start). */
  stop(): Promise<void>;
}

/**
 * An origin's RTSP door as the app builds it, with the config's defaults untouched: its routing stack
 * in front of a real MediaMTX (its auth hook, fed by ffmpeg), on loopback. What the budget tests
 * stand their crowds in front of.
 */
export async function startOriginDoor(): Promise<OriginDoor> {
  const hook = await startAuthHook();
  let stack: RoutingStack | undefined;
  const stop = async () => {
    for (const s of [...(stack?.list ?? [])].reverse()) await s.stop();
    await stopAll();
    await hook.close();
  };
  try {
    const mtx = await startMediamtx({ authHook: hook.url, trustProxies: true });
    startPublisher(`rtsp://${PUBLISHER.user}:${PUBLISHER.password}@127.0.0.1:${mtx.rtspPort}/live`, 240);
    await waitFor('stream ready', () => mtxPathReady(mtx.apiPort), 30_000);
    const rtspPort = await freePort();
    const config = originConfigSchema.parse({ role: 'origin', region: 'eu-central', public: { host: '127.0.0.1', rtspPort, hlsPort: await freePort(), bind: '127.0.0.1' } });
    stack = createOriginRouting({ config, secrets: () => ({ viewerPassword: VIEWER.password }), media: () => ({ rtsp: `127.0.0.1:${mtx.rtspPort}` }), hlsListen: false });
    for (const s of stack.list) await s.start();
    return { stack, rtspPort, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
