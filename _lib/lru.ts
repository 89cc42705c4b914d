// A bounded map that forgets entries not used lately. Every cache on the
// request path is one of these, so none can grow without limit whatever
// clients send.
//
// Two generations of plain Maps: entries go into the young one; when it is
// full it becomes the old one and the previous old one is dropped whole. A
// hit in the old generation moves the entry to the young one. Every
// operation is O(1), with no iteration over a Map that has had many
// deletions (which is slow in V8). A generation is full at `limit` entries
// or, when entries have a size, at half of `maxBytes`: so at most
// 2 * limit entries, and about maxBytes in all, are held.

/** A Map with a size limit that keeps recently used entries. */
export class Lru<K, V> {
  #young: Map<K, V> = new Map();
  #old: Map<K, V> = new Map();
  #youngBytes = 0;
  readonly #limit: number;
  readonly #generationBytes: number;
  readonly #sizeOf: ((key: K, value: V) => number) | undefined;

  /**
   * @param limit Entries per generation.
   * @param maxBytes About how many bytes the entries may take in all, as
   *   measured by `sizeOf`; no byte bound without it.
   */
  constructor(
    limit: number,
    maxBytes = Infinity,
    sizeOf?: (key: K, value: V) => number,
  ) {
    this.#limit = limit;
    this.#generationBytes = maxBytes / 2;
    this.#sizeOf = sizeOf;
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
    const bytes = this.#sizeOf?.(key, value) ?? 0;
    if (
      this.#young.size >= this.#limit ||
      (this.#youngBytes + bytes > this.#generationBytes && this.#young.size > 0)
    ) {
      this.#old = this.#young;
      this.#young = new Map();
      this.#youngBytes = 0;
    }
    this.#young.set(key, value);
    this.#youngBytes += bytes;
  }
}
