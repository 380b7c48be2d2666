import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWireGuardVpn, WG_SOCKET_DIR, type WireGuardVpn } from '@haven/plugin-wireguard';
import { NetnsHarness } from '../helpers/netns.js';
import { requireTool } from '../helpers/tools.js';
import { wireguardGoPids } from './wg-processes.js';

const ip = requireTool('ip', 'apt-get install iproute2');
const setpriv = requireTool('setpriv', 'apt-get install util-linux');
requireTool('wg', 'apt-get install wireguard-tools');
requireTool('wireguard-go', 'apt-get install wireguard-go');

describe('wireguard driver: missing tools and missing permission', () => {
  let h: NetnsHarness | undefined;
  let ns = '';
  let dir = '';
  const vpns: WireGuardVpn[] = [];

  beforeAll(async () => {
    h = await NetnsHarness.create('hvwg');
    ns = await h.namespace('tools');
    dir = await mkdtemp(path.join(tmpdir(), 'hvwg-tools-'));
    h.defer(async () => {
      for (const v of vpns) await v.down();
    });
  });

  afterAll(async () => {
    try {
      await h?.cleanup();
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  });

  const make = async (extra: Partial<Parameters<typeof createWireGuardVpn>[0]>) => {
    const v = await createWireGuardVpn({ role: 'origin', stateDir: dir, netns: ns, listenPort: 21100, ...extra });
    vpns.push(v);
    return v;
  };

  it('names wireguard-go when it is missing', async () => {
    const v = await make({ implementation: 'userspace', tools: { wireguardGo: '/nonexistent/wireguard-go' } });
    await expect(v.up()).rejects.toMatchObject({ code: 'TOOL_MISSING', message: expect.stringMatching(/install the Debian package wireguard-go/) });
  });

  it('names wireguard-tools when wg is missing, and leaves no wireguard-go behind', async () => {
    const v = await make({ tools: { wg: '/nonexistent/wg' } });
    await expect(v.up()).rejects.toMatchObject({ code: 'TOOL_MISSING', message: expect.stringMatching(/install the Debian package wireguard-tools/) });
    expect(await wireguardGoPids([v.interfaceName])).toEqual([]);
  });

  it('names iproute2 when ip is missing', async () => {
    const v = await make({ tools: { ip: '/nonexistent/ip' } });
    await expect(v.up()).rejects.toMatchObject({ code: 'TOOL_MISSING', message: expect.stringMatching(/iproute2/) });
  });

  it('waits for a wireguard-go of the same interface that is still ending (its control socket held) and then starts', async () => {
    // The one before, still on its way out: its control socket answers for 1 s, then goes with it.
    // Started meanwhile, wireguard-go found the socket taken and exited ("address already in use", or
    // "no such file or directory" when the old one removed it under it), and the one retry 300 ms
    // later found it still taken.
    const v = await make({ implementation: 'userspace', listenPort: 21101 });
    await mkdir(WG_SOCKET_DIR, { recursive: true });
    const old = createServer((s) => s.destroy()).listen(path.join(WG_SOCKET_DIR, `${v.interfaceName}.sock`));
    await once(old, 'listening');
    const gone = new Promise<void>((resolve) => setTimeout(() => old.close(() => resolve()), 1000));
    h?.defer(() => gone);
    await v.up();
    await gone;
    expect(await wireguardGoPids([v.interfaceName])).toHaveLength(1);
    await v.down();
    expect(await wireguardGoPids([v.interfaceName])).toEqual([]);
  });

  it('explains a refusal by ip (Operation not permitted) without root', async () => {
    // A real refusal: the same ip binary, run as nobody.
    const wrapper = path.join(dir, 'ip-as-nobody');
    await writeFile(wrapper, `#!/bin/sh\nexec ${setpriv} --reuid=65534 --regid=65534 --clear-groups ${ip} "$@"\n`);
    await chmod(wrapper, 0o755);
    const inRoot = await createWireGuardVpn({ role: 'origin', stateDir: dir, tools: { ip: wrapper } });
    const err = await inRoot.up().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringMatching(/root or CAP_NET_ADMIN/) });
    expect((err as Error).message).toMatch(/Operation not permitted|Permission denied/);
    const inNs = await make({ tools: { ip: wrapper } });
    await expect(inNs.up()).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });
});
