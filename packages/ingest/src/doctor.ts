import type { IngestLevel, IngestVerdict } from './types.js';

/** One `haven doctor` line, in the shape the doctor's checks share. */
export interface IngestDoctorCheck {
  level: 'ok' | 'warn' | 'fail';
  what: string;
  fix?: string;
}

const DOCTOR_LEVEL: Record<IngestLevel, IngestDoctorCheck['level']> = { fine: 'ok', degrades: 'warn', breaks: 'fail' };

/**
 * `haven doctor` lines for live streams, from `GET /api/status` (each stream's `vrchat` verdict).
 * Append them to the doctor's list: `checks.push(...ingestDoctorChecks(status))`.
 */
export function ingestDoctorChecks(status: { streams: Array<{ name: string; ready: boolean; vrchat?: IngestVerdict | undefined }> }): IngestDoctorCheck[] {
  const out: IngestDoctorCheck[] = [];
  for (const s of status.streams) {
    if (!s.ready) continue;
    const v = s.vrchat;
    if (!v) {
      out.push({ level: 'ok', what: `stream "${s.name}": live; the VRChat check has not finished yet` });
      continue;
    }
    const bad = v.findings.filter((f) => f.level !== 'fine' && !f.fixedByHaven);
    if (bad.length === 0) {
      const fixed = v.audioFixed ? ' (the Haven re-encodes its audio to AAC 48 kHz)' : '';
      out.push({ level: 'ok', what: `stream "${s.name}": VRChat-ready on PC and Quest${fixed}` });
      continue;
    }
    for (const f of bad) {
      out.push({ level: DOCTOR_LEVEL[f.level], what: `stream "${s.name}" in VRChat: ${f.what}`, ...(f.fix ? { fix: `in OBS: ${f.fix}` } : {}) });
    }
  }
  return out;
}
