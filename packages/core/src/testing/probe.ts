import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HavenNode, HealthProbe } from '../contracts.js';

export interface ProbeFixture {
  probe: HealthProbe;
  /** A node serving `stream` (ready). */
  live: HavenNode;
  /** A node that does not answer at all (nothing listening on a loopback port). */
  dead: HavenNode;
  stream: string;
  close?: () => Promise<void>;
}

export function probeContract(name: string, factory: () => Promise<ProbeFixture> | ProbeFixture): void {
  describe(`HealthProbe contract: ${name}`, () => {
    let fx: ProbeFixture;
    beforeAll(async () => {
      fx = await factory();
    });
    afterAll(async () => {
      await fx?.close?.();
    });

    it('reports a live node up and ready with a round-trip time', async () => {
      const r = await fx.probe.probe({ node: fx.live, stream: fx.stream }, AbortSignal.timeout(5000));
      expect(r.up).toBe(true);
      expect(r.ready).toBe(true);
      expect(r.rttMs).toBeGreaterThanOrEqual(0);
    });

    it('reports a dead node down with a reason, without throwing', async () => {
      const r = await fx.probe.probe({ node: fx.dead, stream: fx.stream }, AbortSignal.timeout(5000));
      expect(r.up).toBe(false);
      expect(r.ready).toBe(false);
      expect(typeof r.reason).toBe('string');
    });

    it('resolves promptly when the signal is already aborted', async () => {
      const ac = new AbortController();
      ac.abort();
      const r = await fx.probe.probe({ node: fx.live, stream: fx.stream }, ac.signal);
      expect(r.up).toBe(false);
    });
  });
}
