/** A small TTL map (viewer IP + stream -> node name), bounded in size; oldest entries go first. */
export class StickyMap {
  readonly #entries = new Map<string, { node: string; until: number }>();

  constructor(
    readonly ttlMs: number,
    readonly now: () => number = Date.now,
    readonly maxEntries = 50_000,
  ) {}

  get(key: string): string | undefined {
    if (this.ttlMs <= 0) return undefined;
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.until < this.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.node;
  }

  set(key: string, node: string): void {
    if (this.ttlMs <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { node, until: this.now() + this.ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const first = this.#entries.keys().next().value;
      if (first === undefined) break;
      this.#entries.delete(first);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
