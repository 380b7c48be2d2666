import { mkdtemp, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HavenError } from '../errors.js';
import { definePlugin } from '../plugin.js';
import { loadConfig, parseConfigText } from './load.js';

const KEY_A = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const KEY_B = 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=';

const demo = definePlugin({
  name: 'demo',
  schema: z.strictObject({ port: z.number().int().min(1).max(65535).default(1234) }),
  setup: () => ({}),
});

function problems(fn: () => unknown): Array<{ path: string; message: string; line?: number }> {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HavenError);
    return ((err as HavenError).details?.problems ?? []) as never;
  }
  throw new Error('expected the config to be rejected');
}

describe('config validation', () => {
  it('accepts a minimal origin and fills defaults', () => {
    const { config } = parseConfigText('role: origin\n', 'haven.yaml');
    expect(config.role).toBe('origin');
    expect(config.streams).toEqual([{ name: 'live' }]);
    if (config.role === 'origin') {
      expect(config.gateway.redirect).toBe('adaptive');
      expect(config.health.failuresToDown).toBe(2);
      expect(config.nodes).toEqual([]);
    }
  });

  it('accepts nodes with region or coordinates', () => {
    const text = `role: origin
nodes:
  - name: alice
    region: eu-central
    rtsp: rtsp://198.51.100.7:8554
    publicKey: ${KEY_A}
  - name: bob
    lat: 35.6
    lon: 139.7
    rtsp: rtsp://198.51.100.8:8554
    capacity: 20
`;
    const { config } = parseConfigText(text);
    expect(config.role === 'origin' && config.nodes.map((n) => n.name)).toEqual(['alice', 'bob']);
  });

  it('reports malformed YAML with its line and a non-zero exit code path', () => {
    try {
      parseConfigText('role: origin\nnodes: [\n  - name: x\n', 'haven.yaml');
      throw new Error('no error');
    } catch (err) {
      expect(err).toBeInstanceOf(HavenError);
      expect((err as HavenError).code).toBe('CONFIG_PARSE');
      expect((err as HavenError).message).toMatch(/haven\.yaml:\d+:\d+/);
    }
  });

  it('rejects duplicate YAML keys', () => {
    expect(() => parseConfigText('role: origin\nrole: node\n')).toThrow(/CONFIG|problem/);
  });

  it('reports every problem at once: wrong types, unknown keys, bad values, with key paths and lines', () => {
    const text = `role: origin
capacty: 3
public:
  rtspPort: "eighty"
health:
  intervalMs: -5
nodes:
  - name: Alice!
    region: atlantis
    rtsp: http://x
`;
    const list = problems(() => parseConfigText(text, 'haven.yaml'));
    const byPath = Object.fromEntries(list.map((p) => [p.path, p]));
    expect(byPath['capacty']?.message).toMatch(/unknown key "capacty"/);
    expect(byPath['capacty']?.line).toBe(2);
    expect(byPath['public.rtspPort']?.message).toMatch(/expected number.*found "eighty"/);
    expect(byPath['public.rtspPort']?.line).toBe(4);
    expect(byPath['health.intervalMs']?.message).toMatch(/found number -5/);
    expect(byPath['nodes[0].name']?.message).toMatch(/lowercase/);
    expect(byPath['nodes[0].region']?.message).toMatch(/unknown region "atlantis"/);
    expect(byPath['nodes[0].rtsp']?.message).toMatch(/rtsp:\/\//);
    expect(list.length).toBeGreaterThanOrEqual(6);
  });

  it('names the role when it is missing or wrong', () => {
    const list = problems(() => parseConfigText('role: relay\n'));
    expect(list[0]?.path).toBe('role');
    expect(list[0]?.message).toMatch(/origin or node/);
  });

  it('rejects duplicate node names, public keys and VPN addresses', () => {
    const text = `role: origin
nodes:
  - { name: a, region: eu-central, rtsp: "rtsp://10.0.0.1:8554", publicKey: ${KEY_A}, vpnAddress: 10.77.0.2 }
  - { name: a, region: eu-central, rtsp: "rtsp://10.0.0.2:8554", publicKey: ${KEY_A}, vpnAddress: 10.77.0.2 }
  - { name: c, region: us-east, rtsp: "rtsp://10.0.0.3:8554", publicKey: ${KEY_B} }
`;
    const list = problems(() => parseConfigText(text));
    const msgs = list.map((p) => `${p.path}: ${p.message}`);
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/nodes\[1\]\.name: duplicate node name "a"/),
        expect.stringMatching(/nodes\[1\]\.publicKey: duplicate public key/),
        expect.stringMatching(/nodes\[1\]\.vpnAddress: duplicate VPN address/),
      ]),
    );
    expect(msgs.join('\n')).not.toContain(KEY_A);
  });

  it('requires a place for a node and pairs lat with lon', () => {
    const list = problems(() => parseConfigText('role: node\nname: n1\nlat: 10\n'));
    expect(list.map((p) => p.path)).toEqual(expect.arrayContaining(['lon']));
  });

  it("validates each plugin's own section and rejects sections of unknown plugins", () => {
    const list = problems(() => parseConfigText('role: origin\nplugins:\n  demo:\n    port: 0\n    prot: 1\n  other: {}\n', 'haven.yaml', [demo]));
    const paths = list.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['plugins.demo.port', 'plugins.demo.prot', 'plugins.other']));
    const ok = parseConfigText('role: origin\nplugins:\n  demo:\n    port: 99\n', 'haven.yaml', [demo]);
    expect(ok.pluginOptions.demo).toEqual({ port: 99 });
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'haven-cfg-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves stateDir against the config file and names a missing file', async () => {
    const file = path.join(dir, 'haven.yaml');
    await writeFile(file, 'role: origin\nstateDir: st\n');
    const loaded = await loadConfig(file);
    expect(loaded.stateDir).toBe(path.join(dir, 'st'));
    await expect(loadConfig(path.join(dir, 'nope.yaml'))).rejects.toThrow(/does not exist.*haven init/);
  });

  it('leaves an invalid file untouched', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'role: origin\nbogus: 1\n');
    await expect(loadConfig(file)).rejects.toThrow(/bad\.yaml:2:1 bogus: unknown key/);
    expect(await readFile(file, 'utf8')).toBe('role: origin\nbogus: 1\n');
  });
});
