import { Gauge, type Registry } from 'prom-client';
import type { IngestVerdict } from '@haven/ingest';

export const INGEST_METRIC_NAMES = {
  findings: 'haven_vrchat_findings',
  level: 'haven_vrchat_level',
} as const;

const LEVELS = ['breaks', 'degrades', 'fine'] as const;
const RANK = { fine: 0, degrades: 1, breaks: 2 } as const;

/**
 * The VRChat ingest check as gauges, read at each scrape: findings per stream and level (those the
 * Haven repairs itself not counted), and the stream's verdict (0 fine, 1 degrades, 2 breaks). Live
 * streams only: a stream that goes offline drops out.
 */
export function ingestGauges(registers: Registry[], verdicts: (() => Promise<IngestVerdict[]>) | undefined): void {
  new Gauge({
    name: INGEST_METRIC_NAMES.findings,
    help: 'VRChat ingest check: findings on a live stream by level (breaks, degrades, fine); repaired ones not counted.',
    labelNames: ['stream', 'level'] as const,
    registers,
    async collect() {
      if (!verdicts) return;
      try {
        const all = await verdicts();
        this.reset();
        for (const v of all) {
          for (const level of LEVELS) this.set({ stream: v.stream, level }, v.findings.filter((f) => f.level === level && !f.fixedByHaven).length);
        }
      } catch {
        // Keep the last values: a scrape must not fail because the status was briefly unavailable.
      }
    },
  });
  new Gauge({
    name: INGEST_METRIC_NAMES.level,
    help: 'VRChat ingest check verdict of a live stream: 0 fine, 1 degrades, 2 breaks.',
    labelNames: ['stream'] as const,
    registers,
    async collect() {
      if (!verdicts) return;
      try {
        const all = await verdicts();
        this.reset();
        for (const v of all) this.set({ stream: v.stream }, RANK[v.level]);
      } catch {
        /* as above */
      }
    },
  });
}
