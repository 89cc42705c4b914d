/**
 * A session store on Deno KV, for Deno Deploy and self-hosted Deno.
 *
 * @example Deno Deploy
 * ```ts
 * import { Hono } from "hono";
 * import { session } from "@x/hono-session";
 * import { DenoKvStore } from "@x/hono-session/stores/deno-kv";
 *
 * const kv = await Deno.openKv(); // Deploy's own database
 * const app = new Hono().use(session({ store: new DenoKvStore(kv) }));
 * ```
 *
 * @example Self-hosted Deno, a local file shared by every process
 * ```ts
 * import { DenoKvStore } from "@x/hono-session/stores/deno-kv";
 *
 * const store = new DenoKvStore(await Deno.openKv("./data/sessions.kv"));
 * ```
 *
 * @module
 */
import type {
  SessionRecord,
  SessionStore,
  UserSessionEntry,
} from "../session_store.ts";
import { SessionConflictError } from "../session_conflict_error.ts";
import { ReadVersions } from "../_lib/read_versions.ts";
import { decodeRecord, encodeRecord } from "../_lib/record_codec.ts";
import { retryWhileLocked } from "../_lib/lock_retry.ts";

/** A part of a Deno KV key. */
export type KvKeyPart = string | number | bigint | boolean | Uint8Array;

/**
 * The part of a Deno KV atomic operation this store uses: versionstamp
 * checks, writes and deletes, committed together.
 *
 * @example
 * ```ts
 * import type { KvAtomic } from "@x/hono-session/stores/deno-kv";
 *
 * const kv = await Deno.openKv(":memory:");
 * const op: KvAtomic = kv.atomic();
 * await op.check({ key: ["k"], versionstamp: null }).set(["k"], "v").commit();
 * ```
 */
export interface KvAtomic {
  /** Makes the commit fail unless each key still has the given versionstamp (null: absent). */
  check(
    ...checks: { key: readonly KvKeyPart[]; versionstamp: string | null }[]
  ): KvAtomic;
  /** Writes one entry as part of the operation. */
  set(
    key: readonly KvKeyPart[],
    value: unknown,
    options?: { expireIn?: number },
  ): KvAtomic;
  /** Deletes one entry as part of the operation. */
  delete(key: readonly KvKeyPart[]): KvAtomic;
  /** Applies the operation if every check holds. */
  commit(): Promise<{ ok: boolean; versionstamp?: string }>;
}

/**
 * The few methods of a Deno KV database this store uses. `Deno.Kv` (from
 * `Deno.openKv()`) has them, and so does the database `openKv()` of the
 * `@deno/kv` npm package returns on Node; naming only these keeps the
 * `Deno` namespace out of the types npm users see.
 *
 * @example
 * ```ts
 * import type { KvDatabase } from "@x/hono-session/stores/deno-kv";
 *
 * const kv: KvDatabase = await Deno.openKv(":memory:");
 * ```
 */
export interface KvDatabase {
  /** Reads one entry. */
  get(
    key: readonly KvKeyPart[],
  ): Promise<{ value: unknown; versionstamp: string | null }>;
  /** Writes one entry, which Deno KV may delete after `expireIn` ms. */
  set(
    key: readonly KvKeyPart[],
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<unknown>;
  /** Deletes one entry. */
  delete(key: readonly KvKeyPart[]): Promise<void>;
  /** Starts an atomic operation. */
  atomic(): KvAtomic;
  /**
   * Lists the entries under a key prefix. Only {@linkcode DenoKvStore.listUser}
   * needs it (`Deno.Kv` and `@deno/kv` have it).
   */
  list?(
    selector: { prefix: readonly KvKeyPart[] },
  ): AsyncIterable<{ key: readonly unknown[] }>;
}

/** Options for {@linkcode DenoKvStore}. */
export interface DenoKvStoreOptions {
  /**
   * The key prefix sessions are kept under; the session id is appended.
   * Default: `["sessions"]`.
   */
  prefix?: readonly KvKeyPart[] | undefined;
  /**
   * How long, in milliseconds, a call waits out a local KV file's write lock
   * held by another process or worker (`deno serve --parallel`, several
   * servers on one file) before it fails with an error that says so. The
   * call is tried again after short random pauses meanwhile. `0`: fail at
   * the first lock. Default: `5000`. Only an error saying the database
   * is locked is retried.
   */
  lockTimeout?: number | undefined;
}

/** How many times a listing reads a user's index again (see listUser). */
const LIST_ROUNDS = 8;

/** Deno KV's limit on one value, serialized. */
const VALUE_LIMIT = 65_536;
/** Deno KV's limit on one key, encoded. */
const KEY_LIMIT = 2_048;

const encoder = new TextEncoder();

// Deno KV keeps a string as V8 serializes it: one byte a character when
// every character fits in Latin-1, two bytes otherwise, plus a small header.
function valueBytes(json: string): number {
  // deno-lint-ignore no-control-regex
  return (/[^\u0000-\u00ff]/.test(json) ? 2 * json.length : json.length) + 6;
}

// Each key part takes its encoded bytes plus a type tag and a terminator;
// a zero byte inside a string or byte part is escaped to two.
function keyBytes(key: readonly KvKeyPart[]): number {
  let bytes = 0;
  for (const part of key) {
    const encoded = typeof part === "string"
      ? encoder.encode(part)
      : part instanceof Uint8Array
      ? part
      : undefined;
    if (encoded === undefined) {
      bytes += 11;
      continue;
    }
    bytes += 2 + encoded.length;
    for (let i = 0; i < encoded.length; i++) if (encoded[i] === 0) bytes++;
  }
  return bytes;
}

// A local KV file is SQLite underneath, which takes one writer at a time: a
// write that finds another process or worker holding the file's write lock
// fails at once with "database is locked" (denokv retries a busy
// transaction itself, but a write that fails to take the lock inside a
// batch of writes is answered with that error), and nothing of it is
// written. Every call the store makes is also safe to repeat: reads, writes
// and deletes of fixed values, and atomic operations checked against the
// version read (one that had gone through would fail its check when
// repeated: a conflict, never a doubled or undone write). So each call is
// tried again while the lock is held, up to the store's lockTimeout.
class LockRetryingKv implements KvDatabase {
  // Present only when the database has list().
  declare readonly list?: NonNullable<KvDatabase["list"]>;

  constructor(readonly kv: KvDatabase, readonly timeout: number) {
    // Listing reads in snapshots, which denokv retries itself; kept absent
    // when the database has no list().
    if (typeof kv.list === "function") this.list = kv.list.bind(kv);
  }

  get(
    key: readonly KvKeyPart[],
  ): Promise<{ value: unknown; versionstamp: string | null }> {
    return retryWhileLocked(() => this.kv.get(key), this.timeout, OWNER);
  }

  set(
    key: readonly KvKeyPart[],
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<unknown> {
    return retryWhileLocked(
      () => this.kv.set(key, value, options),
      this.timeout,
      OWNER,
    );
  }

  delete(key: readonly KvKeyPart[]): Promise<void> {
    return retryWhileLocked(() => this.kv.delete(key), this.timeout, OWNER);
  }

  atomic(): KvAtomic {
    return new LockRetryingAtomic(this.kv, this.timeout);
  }
}

// Records an atomic operation's steps, and builds it afresh on the
// database for each attempt to commit it.
class LockRetryingAtomic implements KvAtomic {
  readonly #steps: ((op: KvAtomic) => KvAtomic)[] = [];

  constructor(readonly kv: KvDatabase, readonly timeout: number) {}

  check(
    ...checks: { key: readonly KvKeyPart[]; versionstamp: string | null }[]
  ): KvAtomic {
    this.#steps.push((op) => op.check(...checks));
    return this;
  }

  set(
    key: readonly KvKeyPart[],
    value: unknown,
    options?: { expireIn?: number },
  ): KvAtomic {
    this.#steps.push((op) => op.set(key, value, options));
    return this;
  }

  delete(key: readonly KvKeyPart[]): KvAtomic {
    this.#steps.push((op) => op.delete(key));
    return this;
  }

  commit(): Promise<{ ok: boolean; versionstamp?: string }> {
    return retryWhileLocked(
      () => {
        let op = this.kv.atomic();
        for (const step of this.#steps) op = step(op);
        return op.commit();
      },
      this.timeout,
      OWNER,
    );
  }
}

const OWNER = "DenoKvStore";

/**
 * Keeps sessions in Deno KV: shared by every process that opens the same
 * database, on Deno Deploy across regions. Entries carry Deno KV's
 * `expireIn`, so the database drops them itself; since Deno KV deletes
 * expired entries only some time after the deadline, the expiry is checked
 * again on every read and a late entry is never returned.
 *
 * Writes are checked against what the same request read: if another
 * request changed or deleted the entry in between (a concurrent sign-out,
 * `regenerate()`, or write), `set` throws a `SessionConflictError` instead of
 * bringing the session back or silently undoing the other change; the
 * middleware then merges and retries, or answers 409.
 *
 * Each session is saved as its JSON text. A session over Deno KV's limits
 * (64 KiB a value, 2 KiB a key) fails the save with a `RangeError` that says
 * so, before Deno KV is asked.
 *
 * On a local KV file (SQLite underneath) one writer writes at a time: when
 * several processes, or the workers of `deno serve --parallel`, share the
 * file, a write that finds it locked is tried again after short random
 * pauses (nothing of a locked-out write is saved, and every write of this
 * store is safe to repeat), for up to `lockTimeout` ms; past that the call
 * fails with an error naming the lock. A conflict is still a conflict.
 *
 * Sessions tied to a user (`regenerate({ user })`) also get an index entry
 * under `[...prefix, 0, user, id]`, written in the same atomic operation
 * as the session, expiring with it and deleted with it, so that
 * `userSessions(store)` can list and revoke them. (The `0` keeps index keys
 * apart from session ids, which are strings.)
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { session } from "@x/hono-session";
 * import { DenoKvStore } from "@x/hono-session/stores/deno-kv";
 *
 * const kv = await Deno.openKv();
 * const app = new Hono()
 *   .use(session({ store: new DenoKvStore(kv, { prefix: ["app", "sessions"] }) }));
 * ```
 */
export class DenoKvStore implements SessionStore {
  readonly #kv: KvDatabase;
  readonly #prefix: readonly KvKeyPart[];
  // What each request read, for the check in set().
  readonly #read: ReadVersions<string | null> = new ReadVersions();

  /**
   * Wraps an open database; the store never opens or closes one itself.
   *
   * @param kv An open Deno KV database (`await Deno.openKv(...)`).
   * @param options See {@linkcode DenoKvStoreOptions}; every option has a
   *   default, so this may be left out.
   * @throws {TypeError} When `kv` is not a database or `prefix` is not an
   *   array of key parts.
   * @throws {RangeError} When `prefix` is too long for Deno KV's key limit,
   *   or `lockTimeout` is not a number of milliseconds from 0 up.
   */
  constructor(kv: KvDatabase, options?: DenoKvStoreOptions) {
    if (
      kv === null || typeof kv !== "object" || typeof kv.get !== "function" ||
      typeof kv.set !== "function" || typeof kv.delete !== "function" ||
      typeof kv.atomic !== "function"
    ) {
      throw new TypeError(
        "DenoKvStore: pass an open Deno KV database, for example await Deno.openKv()",
      );
    }
    const prefix = options?.prefix ?? ["sessions"];
    if (
      !Array.isArray(prefix) ||
      !prefix.every((part) =>
        ["string", "number", "bigint", "boolean"].includes(typeof part) ||
        part instanceof Uint8Array
      )
    ) {
      throw new TypeError(
        "DenoKvStore: prefix must be an array of Deno KV key parts (strings, numbers, bigints, booleans, Uint8Arrays)",
      );
    }
    // Session ids are 43 characters: refuse a prefix that leaves no room.
    // (A user's index key is checked when written: its user id varies.)
    const bytes = keyBytes([...prefix, "x".repeat(43)]);
    if (bytes > KEY_LIMIT) {
      throw new RangeError(
        `DenoKvStore: with this prefix a session key takes ${bytes} bytes, over Deno KV's ${KEY_LIMIT}-byte key limit; use a shorter prefix`,
      );
    }
    const lockTimeout = options?.lockTimeout ?? 5_000;
    if (
      typeof lockTimeout !== "number" || !(lockTimeout >= 0) ||
      lockTimeout === Infinity
    ) {
      throw new RangeError(
        `DenoKvStore: lockTimeout must be a number of milliseconds, 0 or more; got ${
          String(lockTimeout)
        }`,
      );
    }
    this.#kv = new LockRetryingKv(kv, lockTimeout);
    this.#prefix = [...prefix];
  }

  /** The key a session id is kept under. */
  key(id: string): KvKeyPart[] {
    return [...this.#prefix, id];
  }

  /**
   * Returns the session saved under `id`, unless absent or expired. With a
   * request's context, remembers the entry's version for `set`'s check.
   */
  async get(id: string, c?: object): Promise<SessionRecord | undefined> {
    const { value, versionstamp } = await this.#kv.get(this.key(id));
    this.#read.remember(c, id, versionstamp);
    // Deno KV's expireIn is only a lower bound: the deadline is checked here.
    return typeof value === "string" ? decodeRecord(value) : undefined;
  }

  /**
   * Saves `record` under `id`, to expire at `record.expires`.
   *
   * @throws {RangeError} When the key or the value is over Deno KV's limits.
   * @throws {SessionConflictError} When the same request's `get` saw another
   *   version of the entry than the one there now.
   */
  async set(id: string, record: SessionRecord, c?: object): Promise<void> {
    const { key, json, options } = this.#entry(id, record);
    const seen = this.#read.get(c, id);
    if (seen === undefined && record.user === undefined) {
      await this.#kv.set(key, json, options);
      return;
    }
    const op = this.#kv.atomic();
    if (seen !== undefined) op.check({ key, versionstamp: seen });
    op.set(key, json, options);
    if (record.user !== undefined) {
      op.set(this.#userKey(record.user, id), record.expires, options);
    }
    const result = await op.commit();
    if (!result.ok) throw new SessionConflictError();
    this.#read.remember(c, id, result.versionstamp ?? null);
  }

  // The key, value and expiry to write for `record` under `id`, checked
  // against Deno KV's limits.
  #entry(
    id: string,
    record: SessionRecord,
  ): { key: KvKeyPart[]; json: string; options: { expireIn: number } } {
    const key = this.key(id);
    const kb = keyBytes(key);
    if (kb > KEY_LIMIT) {
      throw new RangeError(
        `DenoKvStore: the session key is ${kb} bytes, over Deno KV's ${KEY_LIMIT}-byte key limit; use a shorter prefix`,
      );
    }
    const json = encodeRecord(record);
    const vb = valueBytes(json);
    if (vb > VALUE_LIMIT) {
      throw new RangeError(
        `DenoKvStore: the session is ${vb} bytes serialized, over Deno KV's ${VALUE_LIMIT}-byte value limit; keep less in the session`,
      );
    }
    const options = {
      expireIn: Math.max(1, Math.ceil(record.expires - Date.now())),
    };
    return { key, json, options };
  }

  /**
   * Moves a session to a new id (for `regenerate()`) in one atomic
   * operation: saves `record` under `newId` and deletes `oldId`.
   *
   * @throws {RangeError} When the key or the value is over Deno KV's limits.
   * @throws {SessionConflictError} When `oldId` changed or went away since
   *   the same request's `get`, or `newId` is taken; nothing is changed.
   */
  async replace(
    oldId: string,
    newId: string,
    record: SessionRecord,
    c?: object,
  ): Promise<void> {
    const oldKey = this.key(oldId);
    const { key, json, options } = this.#entry(newId, record);
    let seen = this.#read.get(c, oldId);
    if (seen === undefined) seen = (await this.#kv.get(oldKey)).versionstamp;
    if (seen === null) throw new SessionConflictError();
    // A tied session's index entry moves with it: the old id's entry goes,
    // under the user it had (a sign-in as someone else changes the user).
    let oldUser: string | undefined;
    if (record.user !== undefined) {
      const old = await this.#kv.get(oldKey);
      if (old.versionstamp !== seen) throw new SessionConflictError();
      oldUser = decodeRecord(old.value, -Infinity)?.user;
    }
    const op = this.#kv.atomic()
      .check({ key: oldKey, versionstamp: seen }, { key, versionstamp: null })
      .set(key, json, options)
      .delete(oldKey);
    if (record.user !== undefined) {
      op.set(this.#userKey(record.user, newId), record.expires, options);
    }
    if (oldUser !== undefined) op.delete(this.#userKey(oldUser, oldId));
    const result = await op.commit();
    if (!result.ok) throw new SessionConflictError();
    this.#read.remember(c, oldId, null);
    this.#read.remember(c, newId, result.versionstamp ?? null);
  }

  /**
   * Removes the session saved under `id`, and its user's index entry if it
   * was tied to one. Needs no context: a session can be revoked from
   * outside a request.
   *
   * @returns Whether a live session was removed (false when there was
   *   none, or `regenerate()` moved it away first).
   */
  async delete(id: string): Promise<boolean> {
    const key = this.key(id);
    for (let attempt = 0; attempt < 3; attempt++) {
      const { value, versionstamp } = await this.#kv.get(key);
      if (versionstamp === null) return false;
      const user = decodeRecord(value, -Infinity)?.user;
      // Only the entry as read: one written or moved meanwhile is read
      // again, so the index entry deleted is the right one.
      const op = this.#kv.atomic().check({ key, versionstamp }).delete(key);
      if (user !== undefined) op.delete(this.#userKey(user, id));
      if ((await op.commit()).ok) {
        return typeof value === "string" && decodeRecord(value) !== undefined;
      }
    }
    await this.#kv.delete(key);
    return true;
  }

  // Where the index entry of a user's session lives.
  #userKey(user: string, id: string): KvKeyPart[] {
    const key = [...this.#prefix, 0, user, id];
    const bytes = keyBytes(key);
    if (bytes > KEY_LIMIT) {
      throw new RangeError(
        `DenoKvStore: the user index key is ${bytes} bytes, over Deno KV's ${KEY_LIMIT}-byte key limit; use a shorter user id or prefix`,
      );
    }
    return key;
  }

  /**
   * The live sessions tied to `user`, for `userSessions()`. Index entries
   * whose session is gone (signed out, revoked) are removed on the way.
   *
   * @param user The id the sessions were tied to with `regenerate({ user })`.
   * @throws {TypeError} When the database has no `list` method.
   */
  async listUser(user: string): Promise<UserSessionEntry[]> {
    const kv = this.#kv;
    if (typeof kv.list !== "function") {
      throw new TypeError(
        "DenoKvStore: listing a user's sessions needs the database's list() method (Deno.Kv and @deno/kv have it)",
      );
    }
    const prefix = [...this.#prefix, 0, user];
    const found: UserSessionEntry[] = [];
    const read = new Set<string>();
    // The index first, then the records: a regenerate() between the two
    // reads deletes a record the index named, in the operation that
    // indexed the new id. So while a record the index named is found gone,
    // the index is read again for ids not read yet.
    for (let round = 0;; round++) {
      const ids: string[] = [];
      let gone = false;
      for await (const { key } of kv.list({ prefix })) {
        const id = key[key.length - 1];
        if (typeof id !== "string" || read.has(id)) continue;
        ids.push(id);
        read.add(id);
      }
      if (ids.length === 0) return found;
      if (round === LIST_ROUNDS) {
        throw new Error(
          `DenoKvStore: the sessions of this user kept moving while they were listed; gave up after ${LIST_ROUNDS} rounds`,
        );
      }
      await Promise.all(ids.map(async (id) => {
        const key = this.key(id);
        const { value, versionstamp } = await kv.get(key);
        const record = typeof value === "string"
          ? decodeRecord(value)
          : undefined;
        if (record?.user === user) found.push({ id, record });
        else if (record === undefined) {
          if (versionstamp === null) gone = true;
          // The session is gone or past its deadline: its index entry goes,
          // unless a request saved the session again meanwhile.
          await kv.atomic().check({ key, versionstamp }).delete([...prefix, id])
            .commit();
        }
      }));
      if (!gone) return found;
    }
  }
}
