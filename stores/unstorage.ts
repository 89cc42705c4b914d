/**
 * A session store on any unstorage storage: memory, file system, Redis,
 * Cloudflare KV, Vercel KV, databases and more, through unstorage's drivers.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createStorage } from "unstorage";
 * import fsDriver from "unstorage/drivers/fs";
 * import { session } from "@x/hono-session";
 * import { UnstorageStore } from "@x/hono-session/stores/unstorage";
 *
 * const storage = createStorage({
 *   driver: fsDriver({ base: "./.data/sessions" }),
 * });
 * const app = new Hono().use(session({ store: new UnstorageStore(storage) }));
 * ```
 *
 * @module
 */
import type { SessionRecord, SessionStore } from "../session_store.ts";
import { decodeRecord, encodeRecord } from "../_lib/record_codec.ts";

/**
 * The part of an unstorage `Storage` this store uses. `createStorage()`
 * returns one.
 *
 * @example
 * ```ts
 * import { createStorage } from "unstorage";
 * import type { UnstorageLike } from "@x/hono-session/stores/unstorage";
 *
 * const storage: UnstorageLike = createStorage();
 * ```
 */
export interface UnstorageLike {
  /** Reads one item. */
  getItem(key: string): Promise<unknown>;
  /** Writes one item; drivers that support it honour `ttl` (seconds). */
  setItem(
    key: string,
    value: string,
    options?: { ttl?: number },
  ): Promise<void>;
  /** Removes one item. */
  removeItem(key: string): Promise<void>;
}

/** Options for {@linkcode UnstorageStore}. */
export interface UnstorageStoreOptions {
  /** Prefix of every key (unstorage's `:` separates levels). Default: `"sessions:"`. */
  prefix?: string | undefined;
}

// unstorage folds "/" and ":" together and drivers such as the file system
// give other characters meaning: keep only [A-Za-z0-9_-] in a key part and
// escape the rest as %XX (UTF-8), which is reversible and collision-free.
function escapeKey(id: string): string {
  return id.replace(
    /[^A-Za-z0-9_-]/g,
    (ch) =>
      [...new TextEncoder().encode(ch)].map((b) =>
        `%${b.toString(16).padStart(2, "0")}`
      ).join(""),
  );
}

/**
 * Keeps sessions in an unstorage storage, as JSON text. Entries are written
 * with a `ttl` (seconds) for the drivers that expire items themselves (Redis,
 * Cloudflare KV, ...); with the others the deadline is still checked on every
 * read, so an expired session is never returned, though its item stays until
 * something deletes it.
 *
 * unstorage offers no compare-and-set, so this store cannot detect two
 * requests writing the same session at once: the last write wins, and a slow
 * request can write back a session that was signed out meanwhile. Use
 * `RedisStore`, `DenoKvStore` or `MemoryStore` where that matters.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createStorage } from "unstorage";
 * import memoryDriver from "unstorage/drivers/memory";
 * import { session } from "@x/hono-session";
 * import { UnstorageStore } from "@x/hono-session/stores/unstorage";
 *
 * const storage = createStorage({ driver: memoryDriver() });
 * const app = new Hono().use(
 *   session({ store: new UnstorageStore(storage, { prefix: "app:sessions:" }) }),
 * );
 * ```
 */
export class UnstorageStore implements SessionStore {
  readonly #storage: UnstorageLike;
  readonly #prefix: string;

  /**
   * Wraps a storage made with unstorage's `createStorage()`.
   *
   * @param storage An unstorage storage (`createStorage({ driver })`).
   * @param options See {@linkcode UnstorageStoreOptions}; every option has a
   *   default, so this may be left out.
   * @throws {TypeError} When `storage` lacks getItem, setItem or removeItem.
   */
  constructor(storage: UnstorageLike, options?: UnstorageStoreOptions) {
    const s = storage as Partial<UnstorageLike> | null;
    if (
      s === null || typeof s !== "object" || typeof s.getItem !== "function" ||
      typeof s.setItem !== "function" || typeof s.removeItem !== "function"
    ) {
      throw new TypeError(
        "UnstorageStore: pass an unstorage storage, for example createStorage({ driver })",
      );
    }
    this.#storage = storage;
    this.#prefix = options?.prefix ?? "sessions:";
  }

  #key(id: string): string {
    return this.#prefix + escapeKey(id);
  }

  /** Returns the session saved under `id`, unless absent or expired. */
  async get(id: string): Promise<SessionRecord | undefined> {
    // unstorage may hand back the JSON already parsed.
    return decodeRecord(await this.#storage.getItem(this.#key(id)));
  }

  /** Saves `record` under `id`, with a `ttl` to its deadline. */
  async set(id: string, record: SessionRecord): Promise<void> {
    const ttl = Math.max(1, Math.ceil((record.expires - Date.now()) / 1000));
    await this.#storage.setItem(this.#key(id), encodeRecord(record), { ttl });
  }

  /** Removes the session saved under `id`. */
  async delete(id: string): Promise<void> {
    await this.#storage.removeItem(this.#key(id));
  }
}
