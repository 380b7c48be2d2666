import type { HavenNode } from '../contracts.js';
import { HavenError } from '../errors.js';
import type { HavenEmitter } from '../events.js';

export interface RegistryChange {
  added: string[];
  removed: string[];
  changed: string[];
}

function sameNode(a: HavenNode, b: HavenNode): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The nodes the router may pick from, the origin's own node included. Nodes can be added and
 * removed while running; only new viewers see the change. Emits `node:added` / `node:removed`.
 */
export class NodeRegistry {
  readonly #nodes = new Map<string, HavenNode>();
  readonly #events: HavenEmitter | undefined;
  #version = 0;

  constructor(nodes: HavenNode[] = [], events?: HavenEmitter) {
    this.#events = events;
    for (const n of nodes) {
      if (this.#nodes.has(n.name)) throw duplicate(n.name);
      this.#nodes.set(n.name, n);
    }
  }

  /** Bumped on every change: caches keyed on the node list use it. */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#nodes.size;
  }

  list(): HavenNode[] {
    return [...this.#nodes.values()];
  }

  get(name: string): HavenNode | undefined {
    return this.#nodes.get(name);
  }

  /** The origin's node, if registered. */
  origin(): HavenNode | undefined {
    for (const n of this.#nodes.values()) if (n.origin) return n;
    return undefined;
  }

  /** Add a node; a node with the same name is an error (use `update` or `replace`). */
  add(node: HavenNode): void {
    if (this.#nodes.has(node.name)) throw duplicate(node.name);
    if (node.origin && this.origin()) {
      throw new HavenError(`node "${node.name}" cannot be a second origin`, { code: 'NODE_DUPLICATE', details: { node: node.name } });
    }
    this.#nodes.set(node.name, node);
    this.#version++;
    this.#events?.emit('node:added', { node });
  }

  /** Replace a known node's fields (address, capacity, place). */
  update(node: HavenNode): void {
    if (!this.#nodes.has(node.name)) {
      throw new HavenError(`no node named "${node.name}"`, { code: 'NODE_UNKNOWN', details: { node: node.name } });
    }
    this.#nodes.set(node.name, node);
    this.#version++;
  }

  /** Remove a node; resolves false when it was not there. Viewers already on it are not touched. */
  remove(name: string): boolean {
    if (!this.#nodes.delete(name)) return false;
    this.#version++;
    this.#events?.emit('node:removed', { name });
    return true;
  }

  /** Make the registry hold exactly these nodes (config reload), diffing by name. */
  replace(nodes: HavenNode[]): RegistryChange {
    const next = new Map<string, HavenNode>();
    for (const n of nodes) {
      if (next.has(n.name)) throw duplicate(n.name);
      next.set(n.name, n);
    }
    const change: RegistryChange = { added: [], removed: [], changed: [] };
    for (const name of [...this.#nodes.keys()]) {
      if (!next.has(name)) {
        this.remove(name);
        change.removed.push(name);
      }
    }
    for (const n of next.values()) {
      const cur = this.#nodes.get(n.name);
      if (!cur) {
        this.add(n);
        change.added.push(n.name);
      } else if (!sameNode(cur, n)) {
        this.update(n);
        change.changed.push(n.name);
      }
    }
    return change;
  }
}

function duplicate(name: string): HavenError {
  return new HavenError(`a node named "${name}" is already registered`, { code: 'NODE_DUPLICATE', details: { node: name } });
}
