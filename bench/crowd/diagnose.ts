/**
 * Where the crowd's misses come from, printed after a node died: each attempt that neither played nor
 * failed (which step, at which node, that node's health at the origin), how lost connections ended,
 * and the redirects that named the dead node (when they were answered against the kill).
 */
import type { Spawned } from '../../test/helpers/process.js';
import type { CrowdNode, CrowdStatus } from './setup.js';
import { quantile, s1, type ReaderState } from './tally.js';

/** Asks every reader process where its readers are (SIGUSR2: one `open` event each) and waits for the answers. */
export async function askOpen(readers: readonly Spawned[], all: readonly ReaderState[], waitMs = 3000): Promise<void> {
  const asked = Date.now();
  for (const p of readers) if (p.child.exitCode === null) p.child.kill('SIGUSR2');
  const end = asked + waitMs;
  while (Date.now() < end && all.some((r) => (r.open?.at ?? 0) < asked)) await new Promise((r) => setTimeout(r, 100));
}

const count = <T>(xs: readonly T[], key: (x: T) => string): string =>
  [...xs.reduce((m, x) => m.set(key(x), (m.get(key(x)) ?? 0) + 1), new Map<string, number>())]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${k}`)
    .join('; ');

/** The node a host address belongs to, with its health at the origin (and its last probe's failure). */
function nodeAt(host: string, byIp: ReadonlyMap<string, CrowdNode>, st: CrowdStatus | undefined, dead: CrowdNode): string {
  const n = byIp.get(host);
  if (!n) return host;
  if (n === dead) return `${n.name} (dead)`;
  const s = st?.nodes.find((x) => x.name === n.name);
  return `${n.name} (${s?.health ?? '?'}${s?.reason ? `, ${s.reason}` : ''})`;
}

/** Readers not playing at the end: where their open attempt waits. */
export function openBreakdown(notPlaying: readonly ReaderState[], byIp: ReadonlyMap<string, CrowdNode>, st: CrowdStatus | undefined, dead: CrowdNode): string {
  if (notPlaying.length === 0) return 'none';
  return count(notPlaying, (r) => {
    const o = r.open;
    if (!o) return `${r.spec.kind}: no answer from its reader process`;
    const what = o.stage === 'hold' ? `after PLAY, ${o.packets} packets (${o.video} video), ${o.offline ? 'offline segment' : o.quietMs === undefined ? 'no packet' : `quiet ${s1(o.quietMs)}`}` : o.stage;
    return `${r.spec.kind} ${what} at ${nodeAt(o.host, byIp, st, dead)} for ${s1(o.at - o.since)}`;
  });
}

/** How the connections lost after `since` ended, for a set of readers. */
export function lossBreakdown(
  readers: readonly ReaderState[],
  since: number,
  host: (h: string | undefined) => boolean = () => true,
  nameOf: (h: string | undefined) => string = (h) => h ?? '?',
): string {
  const losses = readers.flatMap((r) => r.losses.filter((l) => l.at >= since && host(l.host)).map((l) => ({ ...l, kind: r.spec.kind })));
  if (losses.length === 0) return 'none';
  const quiet = losses.map((l) => l.quietMs);
  const lag = losses.map((l) => l.lagMs);
  // Closes that come together (one node's MediaMTX or the stream itself) against a steady trickle (each reader on its own).
  const bursts = [...losses.reduce((m, l) => m.set(Math.floor((l.at - since) / 1000), (m.get(Math.floor((l.at - since) / 1000)) ?? 0) + 1), new Map<number, number>())]
    .filter(([, n]) => n >= 5)
    .map(([sec, n]) => `${n} at +${sec} s`);
  return (
    `${count(losses, (l) => `${l.kind} ${l.cause}${l.offline ? ' during the offline segment' : ''}`)} (by node: ${count(losses, (l) => nameOf(l.host))}; ` +
    `seconds with 5 or more: ${bursts.join(', ') || 'none'}; quiet before the close p50 ${s1(quantile(quiet, 0.5))}, max ${s1(Math.max(...quiet))}; ` +
    `the reader process's longest event-loop stall before it p50 ${s1(quantile(lag, 0.5))}, max ${s1(Math.max(...lag))})`
  );
}

/** Redirects naming the dead address: answered after the kill had finished, and while it was under way. */
export function deadRedirects(all: readonly ReaderState[], dead: string, killedAt: number, deadAt: number): { after: number; during: number; detail: string } {
  const to = all.flatMap((r) => r.redirects.filter((x) => x.to === dead && x.at >= killedAt).map((x) => ({ ...x, r })));
  const after = to.filter((x) => x.at > deadAt);
  return {
    after: after.length,
    during: to.length - after.length,
    detail: after
      .slice(0, 5)
      .map((x) => `#${x.r.spec.id} ${x.r.spec.kind} via ${x.r.attempts.filter((a) => a.at <= x.at).at(-1)?.entry ?? '?'} ${s1(x.at - deadAt)} after`)
      .join('; '),
  };
}
