import { createHash } from 'node:crypto';
import path from 'node:path';
import { ensureStateDir, readPrivateFile, writePrivateFile } from '@haven/core';
import { PLUGIN, wgError } from './errors.js';
import { WIREGUARD_DIR } from './keys.js';
import { checkNodeAddress, contains, intToIp, ipToInt, type Subnet } from './subnet.js';

export const ADDRESSES_FILE = 'addresses.json';

/** One node's place in the VPN. */
export interface Allocation {
  name: string;
  publicKey?: string;
  /** Bare IPv4 address, e.g. `10.77.0.23`. */
  address: string;
}

export interface AssignRequest {
  name: string;
  publicKey?: string;
  /** A fixed address (from the config file); allocated when absent. */
  address?: string;
}

interface StoredPlan {
  version: 1;
  subnet: string;
  nodes: Allocation[];
}

/**
 * The origin's address plan: each node gets a stable /32. A node's first address is derived from a
 * hash of its name (so the same name lands on the same address even if the state is lost, unless
 * that slot was taken), then kept in `<stateDir>/wireguard/addresses.json` so it never moves.
 */
export class AddressPlan {
  #nodes = new Map<string, Allocation>();
  #writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly subnet: Subnet,
    readonly originAddress: string,
    readonly file: string | undefined,
  ) {}

  /** A plan that lives only in memory (tests, tools). */
  static inMemory(subnet: Subnet, originAddress: string, nodes: Allocation[] = []): AddressPlan {
    const plan = new AddressPlan(subnet, originAddress, undefined);
    for (const n of nodes) plan.#nodes.set(n.name, { ...n });
    return plan;
  }

  /** Load (or start) the plan persisted under the state directory. */
  static async open(stateDir: string, subnet: Subnet, originAddress: string): Promise<AddressPlan> {
    const dir = await ensureStateDir(path.join(stateDir, WIREGUARD_DIR), PLUGIN);
    const file = path.join(dir, ADDRESSES_FILE);
    const plan = new AddressPlan(subnet, originAddress, file);
    const raw = await readPrivateFile(file, PLUGIN);
    if (raw === undefined) return plan;
    let stored: StoredPlan;
    try {
      stored = JSON.parse(raw) as StoredPlan;
      if (stored?.version !== 1 || !Array.isArray(stored.nodes)) throw new Error('unexpected shape');
    } catch (err) {
      throw wgError('STATE_CORRUPT', `${file} is not a valid address plan; it was left untouched. Restore it, or move it away to allocate addresses again`, {
        cause: err,
        details: { path: file },
      });
    }
    for (const n of stored.nodes) {
      if (typeof n?.name !== 'string' || typeof n.address !== 'string' || !contains(subnet, n.address)) {
        throw wgError(
          'STATE_CORRUPT',
          `${file} holds addresses of subnet ${stored.subnet}, not ${subnet.cidr}: the subnet option changed. Set it back, or move the file away (every node then needs a new join bundle)`,
          { details: { path: file, stored: stored.subnet, subnet: subnet.cidr } },
        );
      }
      plan.#nodes.set(n.name, { name: n.name, address: n.address, ...(n.publicKey ? { publicKey: n.publicKey } : {}) });
    }
    return plan;
  }

  list(): Allocation[] {
    return [...this.#nodes.values()].map((n) => ({ ...n }));
  }

  byName(name: string): Allocation | undefined {
    const n = this.#nodes.get(name);
    return n && { ...n };
  }

  byKey(publicKey: string): Allocation | undefined {
    for (const n of this.#nodes.values()) if (n.publicKey === publicKey) return { ...n };
    return undefined;
  }

  byAddress(address: string): Allocation | undefined {
    for (const n of this.#nodes.values()) if (n.address === address) return { ...n };
    return undefined;
  }

  /**
   * Give `name` its address: the one it already has, the one asked for, or a new one. A public key
   * held by another node, an address held by another node, outside the subnet, or a full subnet are
   * errors that say which.
   */
  async assign(req: AssignRequest): Promise<Allocation> {
    const what = `node "${req.name}"`;
    if (req.publicKey !== undefined) {
      const owner = this.byKey(req.publicKey);
      if (owner && owner.name !== req.name) {
        throw wgError('DUPLICATE_KEY', `${what}: this public key already belongs to node "${owner.name}"; each node needs its own key pair (share code)`, {
          details: { node: req.name, owner: owner.name },
        });
      }
    }
    const existing = this.#nodes.get(req.name);
    let address: string;
    if (req.address !== undefined) {
      address = checkNodeAddress(this.subnet, req.address, this.originAddress, `${what} address`);
      const holder = this.byAddress(address);
      if (holder && holder.name !== req.name) {
        throw wgError('ADDRESS_TAKEN', `${what}: address ${address} already belongs to node "${holder.name}"`, { details: { address, owner: holder.name } });
      }
    } else {
      address = existing?.address ?? this.#pick(req.name);
    }
    const next: Allocation = { name: req.name, address };
    const key = req.publicKey ?? existing?.publicKey;
    if (key !== undefined) next.publicKey = key;
    if (!existing || existing.address !== next.address || existing.publicKey !== next.publicKey) {
      this.#nodes.set(req.name, next);
      await this.#persist();
    }
    return { ...next };
  }

  /** Forget a node (by name or public key). Resolves false when it had no address. */
  async release(nameOrKey: string): Promise<boolean> {
    const entry = this.#nodes.get(nameOrKey) ?? this.byKey(nameOrKey);
    if (!entry) return false;
    this.#nodes.delete(entry.name);
    await this.#persist();
    return true;
  }

  #pick(name: string): string {
    const hosts = this.subnet.size - 2;
    const taken = new Set([...this.#nodes.values()].map((n) => n.address));
    taken.add(this.originAddress);
    const start = createHash('sha256').update(name).digest().readUInt32BE(0) % hosts;
    for (let i = 0; i < hosts; i++) {
      const ip = intToIp(this.subnet.network + 1 + ((start + i) % hosts));
      if (!taken.has(ip)) return ip;
    }
    throw wgError(
      'SUBNET_FULL',
      `no free address left in ${this.subnet.cidr} for node "${name}" (${this.#nodes.size} nodes): remove a node or choose a larger subnet`,
      { details: { subnet: this.subnet.cidr, nodes: this.#nodes.size } },
    );
  }

  #persist(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    const body: StoredPlan = {
      version: 1,
      subnet: this.subnet.cidr,
      nodes: [...this.#nodes.values()].sort((a, b) => ipToInt(a.address) - ipToInt(b.address)),
    };
    const text = `${JSON.stringify(body, null, 2)}\n`;
    // Chained so concurrent assigns land on disk in order.
    this.#writing = this.#writing.catch(() => {}).then(() => writePrivateFile(file, text, PLUGIN));
    return this.#writing;
  }
}
