import { describe, expect, it } from 'vitest';
import type { z } from 'zod';

/** The parts of a plugin this suite checks; structural, so any build of @haven/core's types fits. */
export interface PluginShape {
  readonly name: string;
  readonly schema: z.ZodType;
  setup(...args: never[]): unknown;
}

export interface PluginFixture {
  plugin: PluginShape;
  /** Options that the schema must accept. */
  valid: unknown;
  /** Options that the schema must reject (each with a key path expected in the message). */
  invalid: Array<{ options: unknown; path: string }>;
}

/** Checks the plugin's definition: name, strict schema, clear option errors. */
export function pluginContract(name: string, factory: () => PluginFixture): void {
  describe(`Plugin contract: ${name}`, () => {
    const fx = factory();

    it('has a valid name, a schema and a setup function', () => {
      expect(fx.plugin.name).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(typeof fx.plugin.setup).toBe('function');
      expect(typeof fx.plugin.schema.safeParse).toBe('function');
    });

    it('accepts valid options', () => {
      const r = fx.plugin.schema.safeParse(fx.valid);
      expect(r.success, r.success ? '' : JSON.stringify(r.error.issues)).toBe(true);
    });

    it('rejects unknown keys (typos are not silently ignored)', () => {
      const base = typeof fx.valid === 'object' && fx.valid !== null ? fx.valid : {};
      expect(fx.plugin.schema.safeParse({ ...base, definitelyNotAnOption: 1 }).success).toBe(false);
    });

    it('rejects invalid options at the right key', () => {
      for (const bad of fx.invalid) {
        const r = fx.plugin.schema.safeParse(bad.options);
        expect(r.success).toBe(false);
        if (!r.success) expect(r.error.issues.map((i) => i.path.join('.'))).toContain(bad.path);
      }
    });
  });
}
