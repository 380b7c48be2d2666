import { describe, expect, it } from 'vitest';
import { Exec } from './exec.js';

const tools = { ip: '/usr/sbin/ip', wg: '/usr/bin/wg', wireguardGo: '/usr/bin/wireguard-go' };

describe('Exec', () => {
  it('prefixes commands with ip netns exec', () => {
    expect(new Exec(tools, 'hvwg-o').argv('wg', ['show'])).toEqual(['/usr/sbin/ip', ['netns', 'exec', 'hvwg-o', '/usr/bin/wg', 'show']]);
    expect(new Exec(tools).argv('wg', ['show'])).toEqual(['/usr/bin/wg', ['show']]);
  });

  it('names the Debian package of a missing tool', () => {
    const enoent = Object.assign(new Error('spawn wg ENOENT'), { code: 'ENOENT' });
    expect(new Exec(tools).classify('wg', ['show'], { code: -1, stdout: '', stderr: '' }, enoent).message).toMatch(/apt-get install wireguard-tools/);
    expect(new Exec(tools).classify('wireguardGo', ['-f', 'x'], { code: -1, stdout: '', stderr: '' }, enoent).message).toMatch(/install the Debian package wireguard-go/);
    expect(new Exec(tools, 'ns').classify('wg', ['show'], { code: -1, stdout: '', stderr: '' }, enoent).message).toMatch(/iproute2/);
    const inNs = new Exec(tools, 'ns').classify('wg', ['show'], { code: 255, stdout: '', stderr: 'exec of "/usr/bin/wg" failed: No such file or directory\n' });
    expect(inNs).toMatchObject({ code: 'TOOL_MISSING', message: expect.stringMatching(/wireguard-tools/) });
  });

  it('explains a refusal', () => {
    const err = new Exec(tools).classify('ip', ['link', 'add', 'dev', 'hv0', 'type', 'wireguard'], { code: 2, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted\n' });
    expect(err).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(err.message).toMatch(/Operation not permitted.*root or CAP_NET_ADMIN/);
  });

  it('masks a key wg echoes back', () => {
    const err = new Exec(tools).classify('wg', ['set', 'hv0', 'private-key', '/x'], { code: 1, stdout: '', stderr: "Key is not the correct length or format: `c2VjcmV0c2VjcmV0c2VjcmV0'\n" });
    expect(err.message).toContain('format: `[redacted]\'');
    expect(err.message).not.toContain('c2VjcmV0');
  });

  it('keeps other failures with their stderr', () => {
    const err = new Exec(tools).classify('ip', ['link', 'del', 'dev', 'x'], { code: 1, stdout: '', stderr: 'Cannot find device "x"\n' });
    expect(err).toMatchObject({ code: 'COMMAND_FAILED', message: expect.stringMatching(/ip link del dev x failed \(exit 1\): Cannot find device "x"/) });
  });
});
