import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AddressPlan } from './address-plan.js';
import { generateKeyPair } from './keys.js';
import { parseSubnet } from './subnet.js';

const subnet = parseSubnet('10.77.0.0/24');
const k1 = generateKeyPair().publicKey;
const k2 = generateKeyPair().publicKey;

describe('AddressPlan', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const tmp = async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'hvwg-plan-'));
    dirs.push(d);
    return d;
  };

  it('gives a name the same address every time, independent of order', async () => {
    const a = AddressPlan.inMemory(subnet, '10.77.0.1');
    const b = AddressPlan.inMemory(subnet, '10.77.0.1');
    const a1 = await a.assign({ name: 'alice' });
    await a.assign({ name: 'bob' });
    await b.assign({ name: 'bob' });
    const b1 = await b.assign({ name: 'alice' });
    expect(a1.address).toBe(b1.address);
    expect((await a.assign({ name: 'alice' })).address).toBe(a1.address);
  });

  it('persists allocations across restarts (0600) and keeps them when the key changes', async () => {
    const dir = await tmp();
    const p1 = await AddressPlan.open(dir, subnet, '10.77.0.1');
    const alice = await p1.assign({ name: 'alice', publicKey: k1 });
    const fixed = await p1.assign({ name: 'bob', publicKey: k2, address: '10.77.0.50' });
    const p2 = await AddressPlan.open(dir, subnet, '10.77.0.1');
    expect(p2.byName('alice')).toEqual(alice);
    expect(p2.byKey(k2)).toEqual(fixed);
    const rekeyed = await p2.assign({ name: 'alice', publicKey: generateKeyPair().publicKey });
    expect(rekeyed.address).toBe(alice.address);
    expect((await stat(p2.file!)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(p2.file!, 'utf8'))).toMatchObject({ version: 1, subnet: '10.77.0.0/24' });
  });

  it('refuses a duplicate public key, a taken address, and an address outside the subnet', async () => {
    const plan = AddressPlan.inMemory(subnet, '10.77.0.1');
    await plan.assign({ name: 'alice', publicKey: k1, address: '10.77.0.10' });
    await expect(plan.assign({ name: 'mallory', publicKey: k1 })).rejects.toMatchObject({ code: 'DUPLICATE_KEY', message: expect.stringMatching(/already belongs to node "alice"/) });
    await expect(plan.assign({ name: 'bob', address: '10.77.0.10' })).rejects.toMatchObject({ code: 'ADDRESS_TAKEN' });
    await expect(plan.assign({ name: 'bob', address: '10.99.0.10' })).rejects.toMatchObject({ code: 'ADDRESS_OUTSIDE_SUBNET' });
    await expect(plan.assign({ name: 'bob', address: '10.77.0.1' })).rejects.toMatchObject({ code: 'ADDRESS_RESERVED' });
  });

  it('fills a small subnet, then reports exhaustion; release frees a slot', async () => {
    const small = parseSubnet('192.168.7.0/29'); // 6 hosts, one is the origin
    const plan = AddressPlan.inMemory(small, '192.168.7.1');
    const got = new Set<string>();
    for (let i = 0; i < 5; i++) got.add((await plan.assign({ name: `n${i}` })).address);
    expect(got.size).toBe(5);
    expect(got.has('192.168.7.1')).toBe(false);
    expect(got.has('192.168.7.0')).toBe(false);
    expect(got.has('192.168.7.7')).toBe(false);
    await expect(plan.assign({ name: 'extra' })).rejects.toMatchObject({ code: 'SUBNET_FULL', message: expect.stringMatching(/no free address left in 192\.168\.7\.0\/29/) });
    expect(await plan.release('n0')).toBe(true);
    expect(await plan.release('n0')).toBe(false);
    await expect(plan.assign({ name: 'extra' })).resolves.toMatchObject({ name: 'extra' });
  });

  it('refuses a stored plan of another subnet, and corrupt files', async () => {
    const dir = await tmp();
    const p = await AddressPlan.open(dir, subnet, '10.77.0.1');
    await p.assign({ name: 'alice' });
    await expect(AddressPlan.open(dir, parseSubnet('10.88.0.0/24'), '10.88.0.1')).rejects.toMatchObject({ code: 'STATE_CORRUPT', message: expect.stringMatching(/subnet option changed/) });
    await writeFile(p.file!, '{nope', { mode: 0o600 });
    await expect(AddressPlan.open(dir, subnet, '10.77.0.1')).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
  });
});
