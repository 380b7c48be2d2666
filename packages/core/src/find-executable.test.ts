import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from './find-executable.js';

describe('findExecutable', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'haven-find-exec-'));
    await writeFile(path.join(dir, 'tool'), '#!/bin/sh\n');
    await chmod(path.join(dir, 'tool'), 0o755);
    await writeFile(path.join(dir, 'plain'), 'not a program');
    await chmod(path.join(dir, 'plain'), 0o644);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('returns the first executable of that name on PATH', () => {
    expect(findExecutable('tool', { PATH: ['', '/nonexistent', dir].join(path.delimiter) })).toBe(path.join(dir, 'tool'));
  });

  it('passes over files that cannot be run, and answers undefined when none is found', () => {
    expect(findExecutable('plain', { PATH: dir })).toBeUndefined();
    expect(findExecutable('tool', { PATH: '' })).toBeUndefined();
    expect(findExecutable('tool', {})).toBeUndefined();
  });
});
