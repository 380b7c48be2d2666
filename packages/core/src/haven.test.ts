import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HavenError } from './errors.js';
import { createHaven } from './haven.js';
import { createLogger, SecretRedactor } from './logger.js';
import { definePlugin } from './plugin.js';
import { freePort } from './testing/free-port.js';

let dir: string;
/** An origin on loopback with free ports (the doors are `@haven/gateway`'s: none listens here). */
let base: Record<string, unknown>;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'haven-life-'));
  base = { role: 'origin', stateDir: dir, public: { host: '127.0.0.1', bind: '127.0.0.1', rtspPort: await freePort(), hlsPort: await freePort() } };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function recorder(log: string[], name: string, opts: { failSetup?: boolean; failStart?: boolean; failStop?: boolean } = {}) {
  return definePlugin({
    name,
    schema: z.strictObject({ n: z.number().default(1) }),
    setup: () => {
      log.push(`setup:${name}`);
      if (opts.failSetup) throw new Error(`${name} cannot set up`);
      return {
        start: async () => {
          log.push(`start:${name}`);
          if (opts.failStart) throw new Error(`${name} cannot start`);
        },
        stop: async () => {
          log.push(`stop:${name}`);
          if (opts.failStop) throw new Error(`${name} cannot stop`);
        },
      };
    },
  });
}

const quiet = () => createLogger({ level: 'silent' });

describe('createHaven lifecycle', () => {
  it('starts plugins in order and stops them in reverse; stop is safe twice', async () => {
    const log: string[] = [];
    const haven = createHaven(base as never, [recorder(log, 'a'), recorder(log, 'b'), recorder(log, 'c')], { logger: quiet() });
    const started: string[] = [];
    const stopped: string[] = [];
    haven.events.on('plugin:started', ({ name }) => started.push(name));
    haven.events.on('plugin:stopped', ({ name }) => stopped.push(name));
    await haven.start();
    expect(haven.state).toBe('running');
    await haven.stop();
    await haven.stop();
    expect(haven.state).toBe('stopped');
    expect(log).toEqual(['setup:a', 'start:a', 'setup:b', 'start:b', 'setup:c', 'start:c', 'stop:c', 'stop:b', 'stop:a']);
    expect(started).toEqual(['a', 'b', 'c']);
    expect(stopped).toEqual(['c', 'b', 'a']);
  });

  it('concurrent stop calls share one shutdown', async () => {
    const log: string[] = [];
    const haven = createHaven(base as never, [recorder(log, 'a')], { logger: quiet() });
    await haven.start();
    await Promise.all([haven.stop(), haven.stop()]);
    expect(log.filter((l) => l === 'stop:a')).toHaveLength(1);
  });

  it('a failed start stops what already started (including the one that failed) and rejects', async () => {
    const log: string[] = [];
    const haven = createHaven(base as never, [recorder(log, 'a'), recorder(log, 'b', { failStart: true }), recorder(log, 'c')], {
      logger: quiet(),
    });
    const err = (await haven.start().catch((e: unknown) => e)) as HavenError;
    expect(err).toBeInstanceOf(HavenError);
    expect(err.code).toBe('START_FAILED');
    expect(err.plugin).toBe('b');
    expect(err.message).toContain('b cannot start');
    expect(log).toEqual(['setup:a', 'start:a', 'setup:b', 'start:b', 'stop:b', 'stop:a']);
    expect(haven.state).toBe('failed');
  });

  it('a failed setup rolls back the started plugins', async () => {
    const log: string[] = [];
    const haven = createHaven(base as never, [recorder(log, 'a'), recorder(log, 'b', { failSetup: true })], { logger: quiet() });
    await expect(haven.start()).rejects.toThrow(/setting up b failed: b cannot set up/);
    expect(log).toEqual(['setup:a', 'start:a', 'setup:b', 'stop:a']);
  });

  it('a plugin failing to stop does not keep the others running, and is reported', async () => {
    const log: string[] = [];
    const haven = createHaven(base as never, [recorder(log, 'a'), recorder(log, 'b', { failStop: true })], { logger: quiet() });
    const errors: string[] = [];
    haven.events.on('error', ({ source }) => errors.push(source));
    await haven.start();
    await expect(haven.stop()).rejects.toThrow(/failed to stop/);
    expect(log.slice(-2)).toEqual(['stop:b', 'stop:a']);
    expect(errors).toEqual(['b']);
  });

  it('rejects invalid plugin lists and config before anything starts', () => {
    const log: string[] = [];
    expect(() => createHaven(base as never, [recorder(log, 'a'), recorder(log, 'a')])).toThrow(/listed twice/);
    expect(() => createHaven({ ...base, plugins: { a: { n: 'x' } } } as never, [recorder(log, 'a')])).toThrow(/plugins\.a\.n/);
    expect(() => createHaven(base as never, [{ name: 'x' } as never])).toThrow(/definePlugin/);
    expect(log).toEqual([]);
  });

  it('passes parsed options, role and contracts to plugins; two providers of one contract conflict', async () => {
    const seen: unknown[] = [];
    const locator = { name: 'l', capabilities: { ipv6: false, updates: false }, locate: () => undefined };
    const p1 = definePlugin({
      name: 'p1',
      schema: z.strictObject({ n: z.number().default(7) }),
      setup: (ctx) => {
        seen.push(ctx.options, ctx.role);
        return { locator };
      },
    });
    const p2 = definePlugin({ name: 'p2', schema: z.strictObject({}), setup: (ctx) => (seen.push(ctx.provided.locator === locator), { locator }) });
    const haven = createHaven(base as never, [p1, p2], { logger: quiet() });
    await expect(haven.start()).rejects.toThrow(/two plugins provide locator/);
    expect(seen).toEqual([{ n: 7 }, 'origin', true]);
  });

  it('rotating a secret reaches plugins and emits, and the value never reaches the log', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(c: Buffer, _e, cb) {
        lines.push(c.toString());
        cb();
      },
    });
    const redactor = new SecretRedactor();
    const logger = createLogger({ destination, redactor, level: 'trace' });
    const got: string[] = [];
    const leaky = definePlugin({
      name: 'leaky',
      schema: z.strictObject({}),
      setup: (ctx) => ({
        onSecrets: async (s) => {
          got.push(s.viewerPassword);
          ctx.logger.info(`new password is ${s.viewerPassword}`);
        },
      }),
    });
    const haven = createHaven(base as never, [leaky], { logger, redactor });
    const rotated: string[] = [];
    haven.events.on('secrets:rotated', ({ name }) => rotated.push(name));
    await haven.start();
    const before = haven.secrets().viewerPassword;
    await haven.rotateSecret('viewerPassword');
    await new Promise((r) => setImmediate(r));
    const after = haven.secrets().viewerPassword;
    expect(after).not.toBe(before);
    expect(got).toEqual([after]);
    expect(rotated).toEqual(['viewerPassword']);
    await haven.stop();
    const out = lines.join('');
    expect(out).toContain('new password is [redacted]');
    expect(out).not.toContain(after);
    expect(out).not.toContain(before);
  });
});
