/**
 * A small two-generation cache (the quick-lru scheme): reads hit the young Map, then the old one
 * (promoting the entry); when the young Map is full it becomes the old one. Recently used entries
 * survive, with no per-read reordering cost. `maxSize` 0 disables caching.
 */
export class LruCache<K, V> {
  #young = new Map<K, V>();
  #old = new Map<K, V>();
  readonly #half: number;

  constructor(readonly maxSize: number) {
    this.#half = Math.max(1, Math.ceil(maxSize / 2));
  }

  get(key: K): V | undefined {
    if (this.maxSize === 0) return undefined;
    const v = this.#young.get(key);
    if (v !== undefined) return v;
    const o = this.#old.get(key);
    if (o !== undefined) {
      this.#old.delete(key);
      this.#store(key, o);
    }
    return o;
  }

  set(key: K, value: V): void {
    if (this.maxSize === 0) return;
    if (this.#young.has(key)) this.#young.set(key, value);
    else this.#store(key, value);
  }

  #store(key: K, value: V): void {
    this.#young.set(key, value);
    if (this.#young.size >= this.#half) {
      this.#old = this.#young;
      this.#young = new Map();
    }
  }

  clear(): void {
    this.#young.clear();
    this.#old.clear();
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }
}
