/**
 * @haven/ingest: the VRChat ingest check. What VRChat's players accept (`profile.ts`), what a few
 * seconds of the published stream show (`ffprobe.ts`), the verdict (`check.ts`), a monitor that
 * re-checks a live stream, and the doctor's checks. The track a media server reports (`IngestTrack`)
 * is a core contract.
 */
export type { IngestFacts, IngestFinding, IngestLevel, IngestProbe, IngestVerdict, VrchatPlatform } from './types.js';
export { audioNeedsFix, OBS as OBS_SETTINGS, SOURCES as VRCHAT_SOURCES, VRCHAT_LIMITS } from './profile.js';
export { checkIngest } from './check.js';
export { ffprobeSampler, type FfprobeSamplerOptions, type IngestSampler } from './ffprobe.js';
export { createIngestMonitor, type IngestMonitor, type IngestMonitorOptions } from './monitor.js';
export { ingestDoctorChecks, type IngestDoctorCheck } from './doctor.js';
