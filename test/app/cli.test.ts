// The reference app's `haven` CLI, run as a user would: built dist, real MediaMTX, ffmpeg, ffprobe.
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { run, spawnTracked, stopAll, waitFor, type Spawned } from '../helpers/process.js';
import { moveListenersToFreeLoopbackPorts } from '../helpers/loopback-ports.js';
import { mediamtxBin, repoRoot, requireTool } from '../helpers/tools.js';

const CLI = path.join(repoRoot, 'examples/docker-app/dist/cli.js');
let dir: string;
let env: NodeJS.ProcessEnv;
let ffmpeg: string;
let ffprobe: string;
let apiPort: number;
let binDir: string;

/**
 * A PATH with every program of this machine's PATH except wireguard-go: a machine without it, as
 * `haven doctor` and a live `node add` meet it (this machine has no kernel WireGuard either).
 */
async function pathWithout(name: string): Promise<string> {
  binDir = await mkdtemp(path.join(tmpdir(), 'haven-cli-bin-'));
  const seen = new Set<string>();
  for (const d of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const f of await readdir(d).catch(() => [] as string[])) {
      if (f === name || seen.has(f)) continue;
      seen.add(f);
      await symlink(path.join(d, f), path.join(binDir, f));
    }
  }
  return binDir;
}

/** The allocations of the origin's VPN address plan (absent file: none). */
async function allocations(): Promise<unknown> {
  const raw = await readFile(path.join(dir, 'state', 'wireguard', 'addresses.json'), 'utf8').catch(() => undefined);
  return raw === undefined ? [] : (JSON.parse(raw) as { nodes: unknown[] }).nodes;
}

/** A friend's node folder with its key pair; returns its share code. */
async function friend(name: string): Promise<string> {
  const nodeDir = await mkdtemp(path.join(tmpdir(), 'haven-cli-node-'));
  try {
    const k = await run(process.execPath, [CLI, '--dir', nodeDir, 'node', 'keygen', '--region', 'eu-central', '--name', name, '--public-host', '198.51.100.7'], { env });
    expect(k.code, k.stderr).toBe(0);
    return k.stdout.trim();
  } finally {
    await rm(nodeDir, { recursive: true, force: true });
  }
}

function haven(args: string[], timeoutMs = 30_000) {
  return run(process.execPath, [CLI, '--dir', dir, ...args], { env, timeoutMs });
}

async function json<T>(args: string[]): Promise<T> {
  const r = await haven([...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

interface Urls {
  publish: Array<{ rtmp: string; srt: string }>;
  viewer: Array<{ rtsp: string; rtspt: string }>;
}

beforeAll(async () => {
  ffmpeg = requireTool('ffmpeg', 'apt-get install ffmpeg');
  ffprobe = requireTool('ffprobe', 'apt-get install ffmpeg');
  dir = await mkdtemp(path.join(tmpdir(), 'haven-cli-'));
  env = { ...process.env, MEDIAMTX_BIN: mediamtxBin(), HAVEN_DIR: '', PATH: await pathWithout('wireguard-go') };
});

afterAll(async () => {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
  if (binDir) await rm(binDir, { recursive: true, force: true });
});

describe('haven CLI as a user runs it', () => {
  let start: Spawned;

  it('init writes a commented config and private secrets', async () => {
    const r = await haven(['init', '--region', 'us-east']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/next: `haven start`/);
    const text = await readFile(path.join(dir, 'haven.yaml'), 'utf8');
    expect(text).toMatch(/^# Stream Haven origin/);
    // Move every listener to free loopback ports so the test runs beside anything else.
    ({ api: apiPort } = await moveListenersToFreeLoopbackPorts(path.join(dir, 'haven.yaml')));
    const again = await haven(['init']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already exists; keeping it/);
  });

  it('start runs the origin and prints readiness without secrets', async () => {
    start = spawnTracked(process.execPath, [CLI, '--dir', dir, 'start'], { env });
    await waitFor('the origin to be ready', () => start.output().includes('› ready.'), 60_000);
    expect(start.output()).toMatch(/MediaMTX answering/);
    expect(start.output()).toMatch(/players: rtsp:\/\/127\.0\.0\.1:\d+\/<stream>/);
    expect(start.output()).toMatch(/OBS: rtmp:\/\/127\.0\.0\.1:\d+ or srt:\/\/127\.0\.0\.1:\d+ with the stream key/);
  });

  it('ffmpeg publishes to the printed RTMP URL and ffprobe reads the printed viewer URL; status shows both', async () => {
    const urls = await json<Urls>(['urls']);
    const pub = spawnTracked(ffmpeg, ['-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15', '-t', '60', '-f', 'flv', urls.publish[0]!.rtmp]);
    await waitFor('the stream to be live', async () => {
      const s = await json<{ streams: Array<{ ready: boolean }> }>(['status']);
      return s.streams[0]?.ready;
    }, 30_000, 500);
    const probe = await run(ffprobe, ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_type,codec_name', '-of', 'json', urls.viewer[0]!.rtsp], { timeoutMs: 30_000 });
    expect(probe.code, probe.stderr).toBe(0);
    expect(JSON.parse(probe.stdout).streams).toEqual(expect.arrayContaining([expect.objectContaining({ codec_type: 'video', codec_name: 'h264' })]));

    // A player that stays connected (VRChat-like UA: served through the local splice).
    const reader = spawnTracked(ffmpeg, ['-nostdin', '-loglevel', 'error', '-user_agent', 'NSPlayer/12.00 VRChat', '-rtsp_transport', 'tcp', '-i', urls.viewer[0]!.rtsp, '-t', '30', '-f', 'null', '-']);
    const status = await waitFor('one reader in status', async () => {
      const s = await json<{ streams: Array<{ ready: boolean; readers: number; sourceType?: string }> }>(['status']);
      return s.streams[0]?.readers === 1 ? s : undefined;
    }, 30_000, 500);
    expect(status.streams[0]).toMatchObject({ ready: true, readers: 1, sourceType: 'rtmpConn' });
    await reader.stop();
    void pub;
  });

  it('secrets rotate changes the viewer password live (no restart)', async () => {
    const before = await json<Urls>(['urls']);
    const r = await haven(['secrets', 'rotate', 'viewer-password']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/rotated live/);
    const after = await json<Urls>(['urls']);
    expect(after.viewer[0]!.rtsp).not.toBe(before.viewer[0]!.rtsp);
    const old = await run(ffprobe, ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'csv', before.viewer[0]!.rtsp], { timeoutMs: 30_000 });
    expect(old.code).not.toBe(0);
    expect(old.stderr).toMatch(/401/);
    const neu = await run(ffprobe, ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'csv', after.viewer[0]!.rtsp], { timeoutMs: 30_000 });
    expect(neu.code, neu.stderr).toBe(0);
    expect(neu.stdout).toContain('h264');
  });

  it('route answers for a real address from the embedded database', async () => {
    const out = await json<{ viewer?: { country?: string; lat: number; lon: number }; node?: string; mode: string }>(['route', '8.8.8.8']);
    expect(out.viewer?.country).toBe('US');
    expect(out.node).toBe('origin');
    const ua = await json<{ mode: string }>(['route', '8.8.8.8', '--user-agent', 'NSPlayer/12.00 VRChat']);
    expect(ua.mode).toBe('splice');
  });

  it('a live node add that cannot bring WireGuard up says what to do and leaves no trace', async () => {
    const file = path.join(dir, 'haven.yaml');
    const before = { text: await readFile(file, 'utf8'), allocations: await allocations() };
    const r = await haven(['node', 'add', await friend('alice')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/node "alice" was not added: WireGuard could not come up on this origin .*`haven doctor` says what is missing/);
    expect(await readFile(file, 'utf8')).toBe(before.text);
    expect(await allocations()).toEqual(before.allocations);
    const list = await json<{ running: boolean; nodes: unknown[] }>(['node', 'list']);
    expect(list).toEqual({ running: true, nodes: [] });
  });

  it('doctor on a machine without wireguard-go names the Debian package and exits non-zero', async () => {
    const r = await haven(['doctor']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/✗ WireGuard: no kernel module and no wireguard-go\n\s+→ install the Debian package wireguard-go: apt-get install wireguard-go/);
    // The origin runs: its ports are its own, not a conflict.
    expect(r.stdout).toMatch(/✓ ports .*: in use by this running Haven/);
    expect(r.stdout).toMatch(/✓ MediaMTX v1\.\d+\.\d+/);
    expect(r.stdout).toMatch(/! public host 127\.0\.0\.1 is loopback \(only this machine can reach it\)\n\s+→ .*--public-host/);
    const jr = await haven(['doctor', '--json']);
    expect(jr.code).toBe(1);
    const j = JSON.parse(jr.stdout) as { ok: boolean; findings: Array<{ level: string; what: string; fix?: string }> };
    expect(j.ok).toBe(false);
    expect(j.findings.filter((f) => f.level === 'fail').map((f) => f.fix)).toEqual(['install the Debian package wireguard-go: apt-get install wireguard-go']);
  });

  it('SIGTERM stops everything, leaves no process, and never logged a secret', async () => {
    const secrets = JSON.parse(await readFile(path.join(dir, 'state', 'secrets.json'), 'utf8')) as Record<string, string>;
    start.child.kill('SIGTERM');
    expect(await start.exited).toBe(0);
    await stopAll();
    const ps = await run('ps', ['-eo', 'args']);
    expect(ps.stdout).not.toContain(path.join(dir, 'state'));
    const log = start.output();
    for (const k of ['streamKey', 'viewerPassword', 'relayPassword']) expect(log).not.toContain(secrets[k]);
    // stdout is a pipe here: JSON lines, each with unique keys (pino wrote `"area":"api","area":"api"`).
    const jsonLines = log.split('\n').filter((l) => l.startsWith('{'));
    expect(jsonLines.length).toBeGreaterThan(5);
    for (const line of jsonLines) expect(parseDocument(line, { uniqueKeys: true }).errors.map((e) => e.code), line).toEqual([]);
    expect(jsonLines.some((l) => l.includes('"area":"api"'))).toBe(true);
  });

  it('on a terminal the log is human-readable, with the › lines kept; --json-logs keeps JSON there too', async () => {
    for (const jsonLogs of [false, true]) {
      const argv = [process.execPath, CLI, '--dir', dir, ...(jsonLogs ? ['--json-logs'] : []), 'start'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
      // `script` gives the CLI a pseudo-terminal, as a user's terminal does; Ctrl-C goes in through it.
      // It runs the command with `$SHELL -c`. A user's interactive shell ignores the Ctrl-C that goes
      // to its foreground job; a non-interactive dash (`/bin/sh` on Debian) dies of it and `script`
      // then reports 130 while the CLI is still stopping. `exec` leaves the CLI alone in the terminal,
      // as in a user's shell, and SHELL is pinned so that every machine runs the same thing.
      const tty = spawnTracked(requireTool('script', 'apt-get install bsdutils'), ['-qfec', `exec ${argv}`, '/dev/null'], { env: { ...env, TERM: 'xterm', SHELL: '/bin/sh' }, stdio: ['pipe', 'pipe', 'pipe'] });
      await waitFor('the origin to be ready on a terminal', () => tty.output().includes('› ready.'), 60_000);
      tty.child.stdin!.write('\x03');
      expect(await tty.exited).toBe(0);
      const lines = tty.output().replace(/\x1b\[[0-9;]*m/g, '').split(/\r?\n/);
      expect(lines.some((l) => l.startsWith('› MediaMTX answering'))).toBe(true);
      const json = lines.filter((l) => l.startsWith('{"level"'));
      const human = lines.filter((l) => /^\[\d\d:\d\d:\d\d\] INFO \(haven-origin\): control API listening/.test(l));
      if (jsonLogs) {
        expect(json.length).toBeGreaterThan(5);
        expect(human).toEqual([]);
      } else {
        expect(json).toEqual([]);
        expect(human).toHaveLength(1);
      }
    }
  });

  it('a Ctrl-C during start stops the Haven cleanly once it has started: exit 0, no process left', async () => {
    const early = spawnTracked(process.execPath, [CLI, '--dir', dir, 'start'], { env });
    // The first plugin is up, the Haven is not ready yet: the signal lands in the middle of the start.
    await waitFor('the first plugin to be up', () => early.output().includes('› MediaMTX answering'), 60_000);
    early.child.kill('SIGINT');
    expect(await early.exited, early.output()).toBe(0);
    // Mostly the signal lands before "ready"; on a slow machine the start may finish first.
    expect(early.output()).toMatch(early.output().includes('› ready.') ? /› SIGINT: stopping\n/ : /› SIGINT: stopping as soon as the start has finished/);
    const ps = await run('ps', ['-eo', 'args']);
    expect(ps.stdout).not.toContain(path.join(dir, 'state'));
  });
});

describe('nodes while the origin is stopped', () => {
  it('--version prints the app version and the MediaMTX version it runs, as the binary says', async () => {
    const r = await haven(['--version']);
    expect(r.code).toBe(0);
    const pkg = JSON.parse(await readFile(path.join(repoRoot, 'examples/docker-app/package.json'), 'utf8')) as { version: string };
    const mtx = await run(mediamtxBin(), ['--version']);
    expect(r.stdout.trim().split('\n')).toEqual([`haven ${pkg.version}`, `MediaMTX ${mtx.stdout.trim()} (${mediamtxBin()})`]);
  });

  it('node add writes the node with its VPN address and prints its bundle; a repeat points to node bundle', async () => {
    const share = await friend('bob');
    const add = await haven(['node', 'add', share, '--json']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toMatch(/public\.host is 127\.0\.0\.1 \(loopback\)/);
    const out = JSON.parse(add.stdout) as { node: string; vpnAddress: string; bundle: string };
    expect(out.node).toBe('bob');
    expect(out.vpnAddress).toMatch(/^10\.77\.0\.\d+$/);
    expect(out.bundle).toMatch(/^havnjoin1-/);

    const file = path.join(dir, 'haven.yaml');
    const text = await readFile(file, 'utf8');
    const again = await haven(['node', 'add', share]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/node "bob" exists: `haven node bundle bob` prints its join bundle again/);
    const renamed = await haven(['node', 'add', share, '--name', 'bobby']);
    expect(renamed.code).toBe(1);
    expect(renamed.stderr).toMatch(/this share code's key belongs to node "bob": `haven node bundle bob`/);
    expect(await readFile(file, 'utf8')).toBe(text);

    const b = await json<{ node: string; vpnAddress: string; bundle: string }>(['node', 'bundle', 'bob']);
    expect(b).toEqual(out);
    const list = await json<{ running: boolean; nodes: Array<{ name: string; vpnAddress: string }> }>(['node', 'list']);
    expect(list.running).toBe(false);
    expect(list.nodes).toEqual([expect.objectContaining({ name: 'bob', vpnAddress: out.vpnAddress })]);
    const missing = await haven(['node', 'bundle', 'carol']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no node named "carol" in .*haven\.yaml \(nodes: bob\)/);
  });

  it('a node add the config refuses leaves haven.yaml and the address plan as they were', async () => {
    const file = path.join(dir, 'haven.yaml');
    const before = { text: await readFile(file, 'utf8'), allocations: await allocations() };
    const r = await haven(['node', 'add', await friend('carol'), '--name', 'Not A Name']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/name/);
    expect(await readFile(file, 'utf8')).toBe(before.text);
    expect(await allocations()).toEqual(before.allocations);
  });
});

describe('haven CLI bad input', () => {
  it('names a missing config and exits non-zero', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'haven-empty-'));
    try {
      const r = await run(process.execPath, [CLI, '--dir', empty, 'status'], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no haven\.yaml in .*: run `haven init`/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('refuses a command for the wrong role', async () => {
    const r = await haven(['node', 'join', 'havnjoin1-abc.def']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*(join bundle|origin config)/);
    const n = await run(process.execPath, [CLI, '--dir', dir, 'node', 'keygen', '--region', 'eu-central'], { env });
    expect(n.code).toBe(1);
    expect(n.stderr).toMatch(/is an origin config: run `haven node keygen` in the node's own folder/);
  });

  it('rejects malformed share codes and bundles with a clear message', async () => {
    const r1 = await haven(['node', 'add', 'havn1-eyJwdWJsaWNLZXkiOiJ4In0']);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/share code: the code is incomplete or was changed: copy it again/);
    const r2 = await haven(['node', 'add', 'hello']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/not a Stream Haven share code/);
    const node = await mkdtemp(path.join(tmpdir(), 'haven-node-'));
    try {
      const k = await run(process.execPath, [CLI, '--dir', node, 'node', 'keygen', '--region', 'eu-central', '--name', 'n1', '--public-host', '127.0.0.1'], { env });
      expect(k.code, k.stderr).toBe(0);
      expect(k.stdout.trim()).toMatch(/^havn1-/);
      const j = await run(process.execPath, [CLI, '--dir', node, 'node', 'join', k.stdout.trim()], { env });
      expect(j.code).toBe(1);
      expect(j.stderr).toMatch(/this is a share code, not a join bundle/);
      const t = await run(process.execPath, [CLI, '--dir', node, 'node', 'join', 'havnjoin1-eyJvcmlnaW4iOnt9fQ'], { env });
      expect(t.code).toBe(1);
      expect(t.stderr).toMatch(/join bundle: the code is incomplete or was changed/);
      const s = await run(process.execPath, [CLI, '--dir', node, 'start'], { env });
      expect(s.code).toBe(1);
      expect(s.stderr).toMatch(/has not joined a Haven yet/);
    } finally {
      await rm(node, { recursive: true, force: true });
    }
  });

  it('rejects unknown secrets, bad regions and bad arguments', async () => {
    const r = await haven(['secrets', 'rotate', 'password']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown secret "password": expected one of viewer-password, stream-key, relay-password/);
    const other = await mkdtemp(path.join(tmpdir(), 'haven-x-'));
    try {
      const b = await run(process.execPath, [CLI, '--dir', other, 'init', '--region', 'atlantis'], { env });
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/unknown region "atlantis"/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
    const c = await haven(['node', 'add', 'x', '--capacity', 'lots']);
    expect(c.code).not.toBe(0);
    expect(c.stderr).toMatch(/expected a whole number/);
  });
});
