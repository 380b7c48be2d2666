import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createLogger, havenConfigSchema, HavenEmitter, SecretStore, type HavenError, type PluginContext } from '@haven/core';
import { parseIp, ipKind, type GeoipOptions } from '@haven/plugin-geo';
import { sharedDir } from '../helpers/tools.js';

export const geoipDir = path.join(sharedDir, 'geoip');
export const badDataDir = path.join(geoipDir, 'bad-data');

export interface JsonNetwork {
  /** As written in the JSON (`::81.2.69.142/127` for IPv4 networks of the IPv6 tree). */
  raw: string;
  /** IPv4 networks as IPv4 (`81.2.69.142/31`). */
  network: string;
  version: 4 | 6;
  first: string;
  prefix: number;
  record: Record<string, any>;
}

/** The source JSON a MaxMind test database was built from, networks normalised. */
export function loadSourceJson(name: string): JsonNetwork[] {
  const list = JSON.parse(readFileSync(path.join(geoipDir, `${name}.json`), 'utf8')) as Array<Record<string, Record<string, any>>>;
  return list.map((entry) => {
    const [raw, record] = Object.entries(entry)[0]!;
    const [addr, p] = raw.split('/') as [string, string];
    let prefix = Number(p);
    let first = addr;
    const v4InV6 = /^::(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
    if (v4InV6 && prefix >= 96) {
      first = v4InV6[1]!;
      prefix -= 96;
    }
    const version = first.includes(':') ? 6 : 4;
    return { raw, network: `${first}/${prefix}`, version, first, prefix, record };
  });
}

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

function v6ToBig(ip: string): bigint {
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Does `network` hold `ip` (same family)? */
export function contains(n: JsonNetwork, ip: string): boolean {
  const v6 = ip.includes(':');
  if (v6 !== (n.version === 6)) return false;
  if (!v6) {
    const size = 2 ** (32 - n.prefix);
    const base = v4ToInt(n.first);
    const x = v4ToInt(ip);
    return x >= base && x < base + size;
  }
  const shift = BigInt(128 - n.prefix);
  return v6ToBig(ip) >> shift === v6ToBig(n.first) >> shift;
}

/** The record an address should get: the most specific JSON network holding it. */
export function expectedRecord(all: JsonNetwork[], ip: string): JsonNetwork | undefined {
  return all.filter((n) => contains(n, ip)).sort((a, b) => b.prefix - a.prefix)[0];
}

/** `count` networks spread evenly over the list (deterministic), with IPv4 and IPv6 both present. */
export function pickSpread<T>(list: T[], count: number): T[] {
  if (list.length <= count) return list;
  const step = list.length / count;
  return Array.from({ length: count }, (_, i) => list[Math.floor(i * step)]!);
}

/** A public address inside an IPv4 network of a walk (first, middle, quarter...), or undefined. */
export function publicAddressIn(network: string): string | undefined {
  const [addr, p] = network.split('/') as [string, string];
  if (addr.includes(':')) return parseIp(addr) && ipKind(parseIp(addr)!) === 'public' ? addr : undefined;
  const base = v4ToInt(addr);
  const size = 2 ** (32 - Number(p));
  for (const off of [0, 1, Math.floor(size / 2) + 1, Math.floor(size / 4) + 1, Math.floor((3 * size) / 4) + 1, size - 2]) {
    if (off < 0 || off >= size) continue;
    const v = base + off;
    const ip = `${Math.floor(v / 2 ** 24) % 256}.${Math.floor(v / 2 ** 16) % 256}.${Math.floor(v / 256) % 256}.${v % 256}`;
    if (ipKind(parseIp(ip)!) === 'public') return ip;
  }
  return undefined;
}

/** Folders made by `tempStateDir` in this test file, until `removeTempStateDirs` deletes them. */
const madeDirs: string[] = [];

/** A private temp state directory (0700 from mkdtemp); `removeTempStateDirs` deletes it. */
export function tempStateDir(prefix = 'haven-geo-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/** Deletes every folder `tempStateDir` made: a test file's afterAll, once its plugins have stopped. */
export function removeTempStateDirs(): void {
  for (const dir of madeDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A plugin context like the one createHaven builds, with errors collected. */
export function pluginContext(options: GeoipOptions, stateDir = tempStateDir()) {
  const events = new HavenEmitter();
  const errors: Array<{ error: HavenError; source: string }> = [];
  events.on('error', (e) => errors.push(e));
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } });
  const config = havenConfigSchema.parse({ role: 'origin' });
  const ctx: PluginContext<never> = {
    options: options as never,
    config,
    role: config.role,
    stateDir,
    logger,
    events,
    secrets: SecretStore.fromValues({ streamKey: 'k'.repeat(32), viewerPassword: 'v'.repeat(20), relayPassword: 'r'.repeat(40) }),
    provided: { probes: [] },
  };
  return { ctx, events, errors, lines, stateDir };
}

/**
 * A tar.gz written by hand (ustar headers, 512-byte blocks), so the archive under test is not made by
 * the library that reads it. Entries are files; directories are implied by their paths.
 */
export function makeTarGz(entries: Array<{ name: string; data: Buffer }>): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${e.data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, e.data, Buffer.alloc((512 - (e.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** Run `fn` with a deadline so a hanging reader fails the test instead of stalling the run. */
export async function withDeadline<T>(ms: number, what: string, fn: () => T | Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(fn), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
