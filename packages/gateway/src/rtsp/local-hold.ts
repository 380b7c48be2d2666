/**
 * Longest wait for the local media server to have the stream before a read is spliced to it anyway.
 * A node whose relay parent died gets a new one within seconds; a viewer or relay child arriving in
 * that window would otherwise be refused (MediaMTX: 401 after its 0-4 s pause) and, as a world player,
 * come back 5 s later through another entry (a relay child: after MediaMTX's 5 s retry pause). Well
 * under players' request timeouts (media3 8 s, FFmpeg and MediaMTX 10 s).
 */
export const LOCAL_HOLD_MS = 4000;
const HOLD_STEP_MS = 50;

/** Resolves once `ready()` is true (true), or after `maxMs` or when `gone()` (false). */
export async function untilLocalReady(ready: () => boolean, gone: () => boolean, maxMs = LOCAL_HOLD_MS): Promise<boolean> {
  const end = Date.now() + maxMs;
  for (;;) {
    if (ready()) return true;
    if (gone() || Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, HOLD_STEP_MS));
  }
}
