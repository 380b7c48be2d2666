import { describe, expect, it } from 'vitest';
import { checkIngest } from '@haven/ingest';
import { createMetrics } from './metrics.js';

describe('VRChat metrics', () => {
  it('a gauge per stream and level, repaired findings not counted, and the verdict as 0/1/2', async () => {
    const broken = checkIngest('live', [{ codec: 'H265' }, { codec: 'MPEG-4 Audio', sampleRate: 44100 }], undefined);
    const fixed = checkIngest('two', [{ codec: 'H264' }, { codec: 'Opus' }], undefined, { audioFix: true });
    const m = createMetrics({ processMetrics: false, vrchatVerdicts: async () => [broken, fixed] });
    const text = await m.registry.metrics();
    expect(text).toContain('haven_vrchat_findings{stream="live",level="breaks"} 1');
    expect(text).toContain('haven_vrchat_findings{stream="live",level="degrades"} 1');
    expect(text).toContain('haven_vrchat_findings{stream="two",level="breaks"} 0');
    expect(text).toContain('haven_vrchat_level{stream="live"} 2');
    expect(text).toContain('haven_vrchat_level{stream="two"} 0');
  });
});
