import { createServer } from 'node:net';

/**
 * A loopback TCP port that was free a moment ago (the SDK's own tests and the doors' unit tests). Picked below the kernel's
 * ephemeral range (32768 and up on Linux) so no outgoing connection takes it before the test binds it.
 */
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port in 20000-31999 after 500 tries');
}
