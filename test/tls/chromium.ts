/**
 * Chromium (Debian's, driven by playwright-core as in test/api) inside a namespace, trusting Pebble's
 * root through its own NSS database (Chromium on Linux reads `$HOME/.pki/nssdb`), in a fresh HOME.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { run } from '../helpers/process.js';
import { requireTool } from '../helpers/tools.js';

export async function launchChromiumIn(ns: string, dir: string, rootFile: string | undefined): Promise<Browser> {
  const exe = requireTool('chromium', 'apt-get install -y chromium');
  const certutil = requireTool('certutil', 'apt-get install -y libnss3-tools');
  const home = path.join(dir, rootFile ? 'chromium-home' : 'chromium-home-bare');
  const db = path.join(home, '.pki', 'nssdb');
  await mkdir(db, { recursive: true });
  const init = await run(certutil, ['-d', `sql:${db}`, '-N', '--empty-password'], { timeoutMs: 20_000 });
  if (init.code !== 0) throw new Error(`certutil -N failed: ${init.stderr}`);
  if (rootFile) {
    const add = await run(certutil, ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'pebble-root', '-i', rootFile], { timeoutMs: 20_000 });
    if (add.code !== 0) throw new Error(`certutil -A failed: ${add.stderr}`);
  }
  // Playwright talks to the browser over inherited pipes; `ip netns exec` keeps them.
  const wrapper = path.join(home, 'chromium-in-netns.sh');
  await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} env HOME=${home} ${exe} "$@"\n`);
  await chmod(wrapper, 0o755);
  return chromium.launch({
    executablePath: wrapper,
    env: { ...process.env, HOME: home },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}
