// What each request read from a store, for the stores that refuse a write
// based on a stale read: per request (its Hono context, held weakly), per
// session id, the version the request saw (a versionstamp, a raw value, a
// counter; null when the entry was absent).

/** Versions read, per request and id. */
export class ReadVersions<V> {
  readonly #seen: WeakMap<object, Map<string, V>> = new WeakMap();

  /** Notes that request `c` saw version `version` of `id`. No context: nothing. */
  remember(c: object | undefined, id: string, version: V): void {
    if (c === undefined || c === null) return;
    let seen = this.#seen.get(c);
    if (!seen) this.#seen.set(c, seen = new Map());
    seen.set(id, version);
  }

  /** The version request `c` saw of `id`, or undefined if it read none. */
  get(c: object | undefined, id: string): V | undefined {
    return c ? this.#seen.get(c)?.get(id) : undefined;
  }
}
