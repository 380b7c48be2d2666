/**
 * zod shapes of the Control API v3 responses we use (openapi.yaml of MediaMTX v1.20.1). The spec marks
 * no field required, so only what we read is checked; unknown fields pass through for forward
 * compatibility.
 */
import { z } from 'zod';

const count = z.number().int().nonnegative();

export const infoSchema = z.looseObject({
  version: z.string(),
  started: z.string().optional(),
});

export const pathSourceSchema = z.looseObject({ type: z.string(), id: z.string().optional() });
export const pathReaderSchema = z.looseObject({ type: z.string(), id: z.string().optional() });
export const pathTrackSchema = z.looseObject({ codec: z.string(), codecProps: z.record(z.string(), z.unknown()).nullable().optional() });

/** Runtime path (`/v3/paths/get/{name}`, items of `/v3/paths/list`). */
export const pathSchema = z.looseObject({
  name: z.string(),
  confName: z.string().optional(),
  ready: z.boolean().optional(),
  available: z.boolean().optional(),
  online: z.boolean().optional(),
  readyTime: z.string().nullable().optional(),
  availableTime: z.string().nullable().optional(),
  source: pathSourceSchema.nullable().optional(),
  tracks: z.array(z.string()).optional(),
  tracks2: z.array(pathTrackSchema).optional(),
  readers: z.array(pathReaderSchema).nullable().optional(),
  inboundBytes: count.optional(),
  outboundBytes: count.optional(),
  bytesReceived: count.optional(),
  bytesSent: count.optional(),
});

/** Path configuration (`/v3/config/paths/get/{name}`). Only the keys we render are typed. */
export const pathConfSchema = z.looseObject({
  name: z.string(),
  source: z.string().optional(),
  sourceOnDemand: z.boolean().optional(),
  rtspTransport: z.string().optional(),
});

/** Fields every session and connection item shares. */
const clientFields = {
  id: z.string(),
  created: z.string().optional(),
  remoteAddr: z.string().optional(),
  state: z.string().optional(),
  path: z.string().optional(),
  user: z.string().optional(),
  inboundBytes: count.optional(),
  outboundBytes: count.optional(),
};

export const rtspSessionSchema = z.looseObject({ ...clientFields, transport: z.string().nullable().optional() });

export const connSchema = z.looseObject(clientFields);

export function listSchema<T extends z.ZodType>(item: T) {
  return z.looseObject({
    itemCount: count,
    pageCount: count,
    items: z.array(item).nullable().transform((v) => v ?? []),
  });
}

export const okSchema = z.looseObject({ status: z.literal('ok').optional() });
export const errorBodySchema = z.looseObject({ status: z.literal('error').optional(), error: z.string() });

export type MtxInfo = z.infer<typeof infoSchema>;
export type MtxPath = z.infer<typeof pathSchema>;
export type MtxPathConf = z.infer<typeof pathConfSchema>;
export type MtxRtspSession = z.infer<typeof rtspSessionSchema>;
export type MtxConn = z.infer<typeof connSchema>;
export interface MtxList<T> {
  itemCount: number;
  pageCount: number;
  items: T[];
}
