#!/usr/bin/env node
// The one clean step of a package's build: remove its dist/ once, before tsup writes every entry
// (tsup's own `clean` runs per config, so with two configs one could wipe the other's output).
import { rmSync } from 'node:fs';
import path from 'node:path';

rmSync(path.resolve(process.cwd(), 'dist'), { recursive: true, force: true });
