/** The ingest check's verdict as the status API shows it (registered for OpenAPI in schemas.ts). */
import { z } from 'zod';

const level = z.enum(['breaks', 'degrades', 'fine']);

export const vrchatFindingSchema = z
  .object({
    rule: z.string(),
    level,
    platforms: z.array(z.enum(['pc', 'quest'])),
    what: z.string(),
    fix: z.string().optional(),
    source: z.string(),
    fixedByHaven: z.boolean().optional(),
  });

const n = z.number().optional();

export const vrchatVerdictSchema = z
  .object({
    stream: z.string(),
    level,
    pc: level,
    quest: level,
    findings: z.array(vrchatFindingSchema),
    facts: z.object({
      video: z.object({ codec: z.string(), width: n, height: n, fps: n, profile: z.string().optional(), keyframeIntervalSec: n, keyframes: z.number(), kbps: n, bFrames: z.boolean() }).optional(),
      audio: z.object({ codec: z.string(), sampleRate: n, channels: n, kbps: n }).optional(),
      totalKbps: n,
      sampledSec: z.number(),
    }),
    checkedAt: z.number(),
    audioFixed: z.boolean().optional(),
  });
