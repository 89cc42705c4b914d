// A bounded map that forgets entries not used lately. Every cache on the
// request path is one of these, so none can grow without limit whatever
// clients send.
//
// Two generations of plain Maps: entries go into the young one; when it is
// full it becomes the old one and the previous old one is dropped whole. A
// hit in the old generation moves the entry to the young one. Every
// operation is O(1), with no iteration over a Map that has had many
// deletions (which is slow in V8), and at most 2 * limit entries are held.

/** A Map with a size limit that keeps recently used entries. */
export class Lru<K, V> {
  #young: Map<K, V> = new Map();
  #old: Map<K, V> = new Map();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Entries held, at most twice the limit. */
  get size(): number {
    return this.#young.size + this.#old.size;
  }

  get(key: K): V | undefined {
    const value = this.#young.get(key);
    if (value !== undefined) return value;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#old.delete(key);
      this.#add(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    if (this.#young.has(key)) this.#young.set(key, value);
    else {
      this.#old.delete(key);
      this.#add(key, value);
    }
  }

  delete(key: K): void {
    this.#young.delete(key);
    this.#old.delete(key);
  }

  #add(key: K, value: V): void {
    if (this.#young.size >= this.#limit) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }
}
