/**
 * The TLS tests' network: namespaces on one bridge (`<prefix>-lan`), as machines on one public
 * network: the CA, an entry node, a serving node and a viewer (with a second address, for replays).
 * One segment means a viewer has the same address at the entry and at the node, as on the internet.
 */
import { rm } from 'node:fs/promises';
import { expect } from 'vitest';
import { leftovers, NetnsHarness } from '../helpers/netns.js';
import { stopAll } from '../helpers/process.js';

export const NET = {
  ca: '10.99.0.1',
  entry: '10.99.0.2',
  node: '10.99.0.3',
  viewer: '10.99.0.4',
  /** The viewer namespace's second address (a token replayed from elsewhere). */
  other: '10.99.0.5',
  /** A node whose CA is broken (bad-input test). */
  broken: '10.99.0.6',
  /** A node given a certificate for another address (bad-input test). */
  wrongCert: '10.99.0.7',
} as const;

export interface Topology {
  h: NetnsHarness;
  ns: { ca: string; entry: string; node: string; viewer: string };
  lan: string;
}

/** One more machine on the segment. */
export async function addMachine(t: Topology, name: string, cidr: string): Promise<string> {
  const ns = await t.h.namespace(name);
  const l = await t.h.link(t.lan, `169.254.99.${20 + name.length}/32`, ns, cidr);
  await t.h.execOk(t.lan, 'ip', ['link', 'set', l.a, 'master', 'br0']);
  return ns;
}

export async function buildTopology(prefix: string): Promise<Topology> {
  const h = await NetnsHarness.create(prefix);
  try {
    const lan = await h.namespace('lan');
    await h.execOk(lan, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    await h.execOk(lan, 'ip', ['link', 'set', 'br0', 'up']);
    const ns = { ca: await h.namespace('ca'), entry: await h.namespace('entry'), node: await h.namespace('node'), viewer: await h.namespace('view') };
    let n = 0;
    for (const [key, name] of Object.entries(ns)) {
      n++;
      const l = await h.link(lan, `169.254.99.${n}/32`, name, `${NET[key as keyof typeof NET]}/24`);
      await h.execOk(lan, 'ip', ['link', 'set', l.a, 'master', 'br0']);
    }
    await h.execOk(ns.viewer, 'ip', ['address', 'add', `${NET.other}/24`, 'dev', `${prefix}v4b`]);
    return { h, ns, lan };
  } catch (err) {
    await h.cleanup();
    throw err;
  }
}

/**
 * Stops the machines, the namespaces and every tracked process, removes the state dir, and checks
 * that nothing with the prefix is left (namespaces or processes).
 */
export async function tearDown(prefix: string, t: Topology | undefined, machines: Array<{ stop(): Promise<void> } | undefined>, dir: string): Promise<void> {
  for (const m of machines) await m?.stop().catch(() => undefined);
  await t?.h.cleanup();
  await stopAll();
  if (dir) await rm(dir, { recursive: true, force: true });
  const left = await leftovers(prefix);
  expect(left.namespaces).toEqual([]);
  expect(left.pids).toEqual([]);
}
