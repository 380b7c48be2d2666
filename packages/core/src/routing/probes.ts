import type { HealthProbe, ProbeResult, ProbeTarget } from '../contracts.js';

/** A probe's verdict that the node can take a viewer of this stream. */
export function probeOk(r: ProbeResult | undefined): boolean {
  return !!r && r.up && r.ready;
}

/**
 * Run several probes as one: the node is up only if every probe says up and ready only if every
 * probe says ready (a probe that cannot judge readiness, such as a VPN handshake check, should
 * answer `ready: up`). The first failing probe names the reason; readers is the highest reported.
 */
export async function runProbes(probes: readonly HealthProbe[], target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
  if (probes.length === 0) return { up: true, ready: true, rttMs: 0, reason: 'no probes' };
  const settled = await Promise.all(
    probes.map(async (p): Promise<[HealthProbe, ProbeResult]> => {
      try {
        return [p, await p.probe(target, signal)];
      } catch (e) {
        const reason = signal.aborted ? 'timeout' : e instanceof Error ? e.message.slice(0, 80) : 'probe failed';
        return [p, { up: false, ready: false, rttMs: 0, reason }];
      }
    }),
  );
  const out: ProbeResult = { up: true, ready: true, rttMs: 0 };
  for (const [p, r] of settled) {
    out.rttMs = Math.max(out.rttMs, Number.isFinite(r.rttMs) ? r.rttMs : 0);
    if (r.readers !== undefined) out.readers = Math.max(out.readers ?? 0, r.readers);
    if ((!r.up || !r.ready) && out.reason === undefined) out.reason = probes.length > 1 ? `${p.name}: ${r.reason ?? 'not ready'}` : (r.reason ?? 'not ready');
    out.up &&= r.up;
    out.ready &&= r.ready;
  }
  out.ready &&= out.up;
  return out;
}
