// Flash bookkeeping: which values live for one more request only.

const NONE: readonly string[] = Object.freeze([]);

/** The flash keys of one session during one request. */
export class Flash {
  /** Keys flashed by an earlier request: dropped at the end of this one. */
  readonly loaded: readonly string[];
  /** Keys flashed (or kept) by this request: they survive the next one. */
  #kept: Set<string> | undefined;

  constructor(loaded: readonly string[] = NONE) {
    this.loaded = loaded;
  }

  /** Whether this request flashed or kept any key. */
  get keeps(): boolean {
    return this.#kept !== undefined;
  }

  /**
   * Whether this request keeps a key an earlier request flashed (flashed
   * anew, or reflashed): a change to save even when the values and the
   * list look the same, since the default was to drop it.
   */
  get keepsLoaded(): boolean {
    const kept = this.#kept;
    return kept !== undefined && this.loaded.some((key) => kept.has(key));
  }

  /** Marks `key` as flashed now. */
  keep(key: string): void {
    (this.#kept ??= new Set()).add(key);
  }

  /** Keeps every key the previous request flashed for one more request. */
  reflash(): void {
    for (const key of this.loaded) this.keep(key);
  }

  /** The loaded keys this request lets go: their values are dropped. */
  expiring(): readonly string[] {
    const kept = this.#kept;
    return kept ? this.loaded.filter((key) => !kept.has(key)) : this.loaded;
  }

  /** The flash keys to save, given the values that remain. */
  saved(values: Record<string, unknown>): readonly string[] {
    return [...this.#kept ?? []].filter((key) => Object.hasOwn(values, key));
  }
}

/** Whether two flash lists are the same, in order. */
export function sameFlash(
  a: readonly string[],
  b: readonly string[],
): boolean {
  return a.length === b.length && a.every((key, i) => key === b[i]);
}
