export type { IngestFacts, IngestFinding, IngestLevel, IngestProbe, IngestTrack, IngestVerdict, VrchatPlatform } from './types.js';
export { audioNeedsFix, OBS as OBS_SETTINGS, SOURCES as VRCHAT_SOURCES, VRCHAT_LIMITS } from './profile.js';
export { checkIngest } from './check.js';
export { ffprobeSampler, type FfprobeSamplerOptions, type IngestSampler } from './ffprobe.js';
export { createIngestMonitor, type IngestMonitor, type IngestMonitorOptions } from './monitor.js';
export { ingestDoctorChecks, type IngestDoctorCheck } from './doctor.js';
