/**
 * An in-process session store with expiry and an optional size bound.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { session } from "@x/hono-session";
 * import { MemoryStore } from "@x/hono-session/stores/memory";
 *
 * const app = new Hono().use(session({ store: new MemoryStore({ maxEntries: 100_000 }) }));
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
import { unrefTimer } from "../_lib/timer.ts";

/** Options for {@linkcode MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most sessions kept at once. When a new one would pass the bound,
   * the least recently used session is dropped (its user is signed out).
   * Default: no bound, so memory follows the number of live sessions.
   */
  maxEntries?: number | undefined;
  /**
   * Seconds between sweeps that drop expired sessions nobody asked for
   * again. The sweep's timer never keeps the process alive. `0` turns the
   * sweep off (expired sessions are still dropped when read). Default: 60.
   */
  sweepInterval?: number | undefined;
}

interface Entry {
  record: SessionRecord;
  version: number;
}

/**
 * Keeps sessions in this process's memory: fast, and gone when the process
 * ends. Fine for a single instance; several instances need a shared store.
 *
 * An expired session is never returned: it is dropped when read, and a
 * periodic sweep drops the ones never read again. With `maxEntries`, the
 * least recently used session makes room for a new one.
 *
 * Like `DenoKvStore`, it refuses a write based on a stale read: when another
 * request changed or deleted a session after this request read it, `set`
 * throws a `SessionConflictError`, so a concurrent sign-out is never undone.
 *
 * It indexes sessions tied to a user (`regenerate({ user })`), so that
 * `userSessions(store)` can list and revoke them; an index entry goes with
 * its session (deleted, expired, swept or evicted).
 *
 * @example
 * ```ts
 * import { session } from "@x/hono-session";
 * import { MemoryStore } from "@x/hono-session/stores/memory";
 *
 * const store = new MemoryStore({ maxEntries: 50_000, sweepInterval: 30 });
 * session({ store });
 * ```
 */
export class MemoryStore implements SessionStore {
  readonly #entries: Map<string, Entry> = new Map();
  /** The ids of each user's sessions (records with `user`). */
  readonly #users: Map<string, Set<string>> = new Map();
  // What each request read, for the check in set().
  readonly #read: ReadVersions<number> = new ReadVersions();
  #version = 0;
  readonly #maxEntries: number;
  readonly #sweepMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Creates an empty store.
   *
   * @param options See {@linkcode MemoryStoreOptions}; every option has a
   *   default, so this may be left out.
   * @throws {RangeError} When `maxEntries` is not a whole number of at least
   *   1, or `sweepInterval` is negative or not finite.
   */
  constructor(options?: MemoryStoreOptions) {
    const { maxEntries = Infinity, sweepInterval = 60 } = options ?? {};
    if (
      maxEntries !== Infinity &&
      (!Number.isInteger(maxEntries) || maxEntries < 1)
    ) {
      throw new RangeError(
        `MemoryStore: maxEntries must be a whole number of at least 1; got ${maxEntries}`,
      );
    }
    if (!Number.isFinite(sweepInterval) || sweepInterval < 0) {
      throw new RangeError(
        `MemoryStore: sweepInterval must be a number of seconds, 0 or more; got ${sweepInterval}`,
      );
    }
    this.#maxEntries = maxEntries;
    this.#sweepMs = sweepInterval * 1000;
  }

  /** The number of sessions held, expired ones not yet swept included. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Returns the session saved under `id`, or undefined when there is none
   * or it has expired. With a request's context, remembers which version
   * it returned, for `set`'s check.
   */
  get(id: string, c?: object): SessionRecord | undefined {
    const entry = this.#live(id);
    this.#read.remember(c, id, entry?.version ?? 0);
    if (entry === undefined) return undefined;
    if (this.#maxEntries !== Infinity) {
      // Most recently used last: the eviction order.
      this.#entries.delete(id);
      this.#entries.set(id, entry);
    }
    return entry.record;
  }

  /**
   * Saves `record` under `id`, dropping the least recently used session if
   * full.
   *
   * @throws {SessionConflictError} When the same request's `get` saw another
   *   version of the session than the one there now.
   */
  set(id: string, record: SessionRecord, c?: object): void {
    const seen = this.#read.get(c, id);
    if (seen !== undefined && seen !== (this.#entries.get(id)?.version ?? 0)) {
      throw new SessionConflictError();
    }
    const version = ++this.#version;
    this.#read.remember(c, id, version);
    const previous = this.#entries.get(id);
    if (previous !== undefined) this.#drop(id, previous);
    this.#entries.set(id, { record, version });
    if (record.user !== undefined) this.#index(record.user, id);
    if (this.#entries.size > this.#maxEntries) {
      const [oldest, entry] = this.#entries.entries().next().value!;
      this.#drop(oldest, entry);
    }
    if (this.#timer === undefined && this.#sweepMs > 0) this.#startSweeping();
  }

  /**
   * Moves a session to a new id (for `regenerate()`): saves `record` under
   * `newId` and removes `oldId`, in one step.
   *
   * @throws {SessionConflictError} When `oldId` changed or went away since
   *   the same request's `get`, or `newId` is taken; nothing is changed.
   */
  replace(
    oldId: string,
    newId: string,
    record: SessionRecord,
    c?: object,
  ): void {
    const seen = this.#read.get(c, oldId);
    const current = this.#live(oldId);
    if (
      (seen !== undefined && seen !== (current?.version ?? 0)) ||
      (seen === undefined && current === undefined) ||
      this.#live(newId) !== undefined
    ) {
      throw new SessionConflictError();
    }
    this.#drop(oldId, current!);
    this.#read.remember(c, oldId, 0);
    this.set(newId, record, c);
  }

  // The live entry under `id`, dropping it if expired.
  #live(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry !== undefined && entry.record.expires <= Date.now()) {
      this.#drop(id, entry);
      return undefined;
    }
    return entry;
  }

  // Removes an entry, and its user's index entry.
  #drop(id: string, entry: Entry): void {
    this.#entries.delete(id);
    const user = entry.record.user;
    if (user === undefined) return;
    const ids = this.#users.get(user);
    ids?.delete(id);
    if (ids?.size === 0) this.#users.delete(user);
  }

  #index(user: string, id: string): void {
    const ids = this.#users.get(user);
    if (ids) ids.add(id);
    else this.#users.set(user, new Set([id]));
  }

  /**
   * Removes the session saved under `id`. Needs no context: a session can
   * be revoked from outside a request.
   *
   * @returns Whether a live session was removed.
   */
  delete(id: string): boolean {
    const entry = this.#entries.get(id);
    if (entry === undefined) return false;
    this.#drop(id, entry);
    return entry.record.expires > Date.now();
  }

  /**
   * The live sessions tied to `user`, for `userSessions()`.
   *
   * @param user The id the sessions were tied to with `regenerate({ user })`.
   */
  listUser(user: string): UserSessionEntry[] {
    const list: UserSessionEntry[] = [];
    for (const id of this.#users.get(user) ?? []) {
      const entry = this.#live(id);
      if (entry !== undefined) list.push({ id, record: entry.record });
    }
    return list;
  }

  /** How many users have sessions in the index (for tests: it stays bounded). */
  get indexedUsers(): number {
    return this.#users.size;
  }

  /**
   * Drops every expired session now.
   *
   * @returns How many were dropped.
   */
  sweep(): number {
    const now = Date.now();
    let dropped = 0;
    for (const [id, entry] of this.#entries) {
      if (entry.record.expires <= now) {
        this.#drop(id, entry);
        dropped++;
      }
    }
    return dropped;
  }

  /** Stops the sweep's timer. The store keeps working; the next save starts it again. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Same as {@linkcode MemoryStore.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #startSweeping(): void {
    const timer = setInterval(() => this.sweep(), this.#sweepMs);
    this.#timer = timer;
    unrefTimer(timer); // the sweep never keeps the process alive
  }
}
