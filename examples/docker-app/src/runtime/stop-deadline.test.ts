import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { childPids } from './stop-deadline.js';

describe('childPids', () => {
  it('names this process\'s running children, and not one that has ended', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await once(child, 'spawn');
    expect(childPids()).toContain(child.pid);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(childPids()).not.toContain(child.pid);
  });
});
