// `haven init`, unedited, then a friend's node: the CLI's dry run sends a Windows Media Foundation
// (VRChat PC, MS-RTSP) player to the nearest node, as the gateway would. The built CLI, as a user runs it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { run } from '../helpers/process.js';
import { repoRoot } from '../helpers/tools.js';

const CLI = path.join(repoRoot, 'examples/docker-app/dist/cli.js');
const MS_RTSP_UA = 'Windows-Media-Player/12.0';

describe('haven route on the config haven init writes', () => {
  let dir: string;
  let nodeDir: string;
  const haven = (d: string, args: string[]) => run(process.execPath, [CLI, '--dir', d, ...args], { env: { ...process.env, HAVEN_DIR: '' }, timeoutMs: 30_000 });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'haven-route-'));
    nodeDir = await mkdtemp(path.join(tmpdir(), 'haven-route-node-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(nodeDir, { recursive: true, force: true });
  });

  it('init writes the adaptive policy (or none) with a comment that says what it does', async () => {
    const r = await haven(dir, ['init', '--region', 'us-east', '--exposure', 'public', '--public-host', '203.0.113.5']);
    expect(r.code, r.stderr).toBe(0);
    const text = await readFile(path.join(dir, 'haven.yaml'), 'utf8');
    const redirect = parseDocument(text).getIn(['gateway', 'redirect']);
    expect([undefined, 'adaptive']).toContain(redirect);
    expect(text).not.toMatch(/known-players\s*$/m);
    expect(text).not.toMatch(/serve every other player \(VRChat\) here/);
  });

  it('an MS-RTSP player in London is sent to the friend\'s node in Frankfurt, not served by the origin', async () => {
    const code = await haven(nodeDir, ['node', 'keygen', '--region', 'eu-central', '--name', 'fra', '--public-host', '198.51.100.7']);
    expect(code.code, code.stderr).toBe(0);
    const add = await haven(dir, ['node', 'add', code.stdout.trim()]);
    expect(add.code, add.stderr).toBe(0);
    const r = await haven(dir, ['route', '81.2.69.160', '--user-agent', MS_RTSP_UA, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { mode: string; node?: string; reason: string; viewer?: { country?: string } };
    expect(out.viewer?.country).toBe('GB');
    expect(out).toMatchObject({ mode: 'redirect', node: 'fra', reason: 'nearest' });
    const text = await haven(dir, ['route', '81.2.69.160', '--user-agent', MS_RTSP_UA]);
    expect(text.stdout).toMatch(/→ redirect to fra \(nearest\)/);
  });
});
