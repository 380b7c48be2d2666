import { originConfigSchema, type HealthConfig } from '../config/schema.js';

/** The health section's defaults, taken from the config schema itself (one source of truth). */
export function healthSchemaDefaults(): HealthConfig {
  return originConfigSchema.parse({ role: 'origin' }).health;
}
