// Quick checks of the Docker files that need no engine. The image itself is built and run, and the
// compose files run with podman-compose, in test/docker/.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { run } from '../helpers/process.js';
import { repoRoot } from '../helpers/tools.js';

const appDir = path.join(repoRoot, 'examples/docker-app');
const dockerfile = readFileSync(path.join(appDir, 'Dockerfile'), 'utf8');
const exposed = /^EXPOSE (.+)$/m.exec(dockerfile)![1]!.trim().split(/\s+/);

describe.each(['docker-compose.yml', 'docker-compose.node.yml'])('%s', (file) => {
  const text = readFileSync(path.join(appDir, file), 'utf8');
  const svc = (parse(text) as { services: { haven: { command: string[]; environment: Record<string, string>; ports: string[] } } }).services.haven;

  it('requires HAVEN_PUBLIC_HOST and has no loopback default for it', () => {
    expect(svc.environment.HAVEN_PUBLIC_HOST).toBe("${HAVEN_PUBLIC_HOST:?set HAVEN_PUBLIC_HOST to this machine's public address}");
    expect(text).not.toMatch(/HAVEN_PUBLIC_HOST:-/);
  });

  it('publishes only ports the image exposes, and the control API on loopback only', () => {
    for (const p of svc.ports) {
      const m = /^(?:([\d.]+):)?(\d+):(\d+\/(?:tcp|udp))$/.exec(p);
      expect(m, p).not.toBeNull();
      expect(exposed, p).toContain(m![3]);
      if (m![3] === '8880/tcp') expect(m![1], 'the control API and status page stay on this machine').toBe('127.0.0.1');
    }
  });

  it('runs a command the CLI knows', async () => {
    const r = await run(process.execPath, [path.join(appDir, 'dist/cli.js'), svc.command[0]!, '--help']);
    expect(r.code, r.stderr).toBe(0);
  });
});
