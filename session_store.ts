/**
 * The shape of a session store.
 *
 * @module
 */
import type { Context } from "hono";

/**
 * What the middleware saves for one session. Stores keep it as it is and
 * give it back from `get`; they never need to look inside, though a store
 * may use `expires` to drop the entry itself.
 *
 * @example
 * ```ts
 * import type { SessionRecord } from "@x/hono-session";
 *
 * const record: SessionRecord = {
 *   data: { userId: "u-42" },
 *   expires: Date.now() + 60_000,
 * };
 * ```
 */
export type SessionRecord = {
  /** The session's values. */
  data: Record<string, unknown>;
  /**
   * When the session ends unless it is used again, in milliseconds since
   * the epoch. A store may drop the entry from then on.
   */
  expires: number;
  /** When the session was created or last regenerated, in ms since the epoch. */
  created?: number;
  /**
   * With an idle timeout: the latest `expires` can be pushed back to
   * (the `maxAge` or `absoluteTimeout` deadline).
   */
  limit?: number;
  /** Keys of `data` that were flashed and disappear after the next request. */
  flash?: string[];
  /**
   * The user this session belongs to, when the app tied it to one with
   * `regenerate({ user })`. Stores that list a user's sessions
   * (`listUser`) index it.
   */
  user?: string;
  /**
   * With `user`: a random name for this sign-in, drawn when the session was
   * tied to its user and kept when `regenerate()` moves it to a new id.
   * Listings name the session by it.
   */
  handle?: string;
  /**
   * The session's own choice of cookie lifetime, made with
   * `regenerate({ persistent })` or `renew(maxAge, { persistent })`: `true`
   * for cookies that outlive the browser, `false` for browser-session
   * cookies. Absent: the middleware's `persistent` option decides.
   */
  persistent?: boolean;
  /**
   * Sessions tied to a user: when a request last saved the session (a
   * change, a renew, or with an idle timeout the write-back of activity),
   * in ms since the epoch.
   */
  seen?: number;
  /**
   * With the `deviceBound` option: the middleware's bookkeeping for a
   * device-bound session (the challenges it was given; once registered,
   * its identifier, its public key, until when its cookie is accepted and
   * the keys its latest refreshes moved it from).
   * Never the session's values. Stores keep it as they keep the rest of
   * the record and never need to read it. The store also holds, for each
   * registered session, a small entry with no values and a `binding` that
   * says where the session is, under a key ending with `:dbsc`.
   */
  binding?: object;
};

/**
 * What a store's `get` may return: a {@linkcode SessionRecord}, typed
 * loosely so that a store written as `get(id, c): Promise<Record<string,
 * unknown> | undefined>` fits. The middleware checks the shape itself.
 *
 * @example
 * ```ts
 * import type { StoredSession } from "@x/hono-session";
 *
 * const fromDatabase: StoredSession = JSON.parse('{"data":{},"expires":0}');
 * ```
 */
export type StoredSession = SessionRecord | Record<string, unknown>;

/**
 * Where store mode keeps sessions. Any object with these three methods
 * works, synchronous or asynchronous; a plain `Map` is one. The request's
 * Hono context comes last, for stores that want to record a user agent or a
 * client address alongside.
 *
 * A method that throws or rejects fails the request: nothing is lost and no
 * cookie ever points at a session that was not saved.
 *
 * Treat the records you are given as immutable: a store that keeps objects
 * may hand the same one back, and its values are shared read-only with
 * later requests (they are frozen). To change a session from outside a
 * request, `set` a new record (`{ ...record, data: { ...record.data, x } }`).
 *
 * Ids are never the cookie's value: the store sees the SHA-256 hash of it,
 * so a copy of the store's contents gives no usable session.
 *
 * A store that can tell whether an entry changed since its `get` in the
 * same request (the context identifies the request) should throw a
 * `SessionConflictError` from `set` when it did; the middleware then
 * reloads, merges and retries.
 *
 * @example A store on top of a SQL database
 * ```ts
 * import type { SessionRecord, SessionStore } from "@x/hono-session";
 *
 * declare const db: {
 *   query(sql: string, params: Record<string, unknown>): Promise<{ data: string }[]>;
 * };
 *
 * const sqlStore: SessionStore = {
 *   async get(id) {
 *     const [row] = await db.query("SELECT data FROM sessions WHERE id = $id", { id });
 *     return row ? JSON.parse(row.data) as SessionRecord : undefined;
 *   },
 *   async set(id, record) {
 *     await db.query(
 *       "INSERT INTO sessions (id, data) VALUES ($id, $data) ON CONFLICT (id) DO UPDATE SET data = $data",
 *       { id, data: JSON.stringify(record) },
 *     );
 *   },
 *   async delete(id) {
 *     await db.query("DELETE FROM sessions WHERE id = $id", { id });
 *   },
 * };
 * ```
 */
export interface SessionStore {
  /**
   * Returns the record saved under `id`, or `undefined`/`null` when there
   * is none. Whatever comes back is checked: anything that is not a live
   * {@linkcode SessionRecord} is no session.
   */
  get(
    id: string,
    c: Context,
  ):
    | StoredSession
    | null
    | undefined
    | Promise<StoredSession | null | undefined>;
  /** Saves `record` under `id`, replacing what was there. */
  set(id: string, record: SessionRecord, c: Context): unknown;
  /**
   * Removes whatever is saved under `id`. A store with `listUser` is also
   * called without a context: from `userSessions()`, when a session is
   * revoked from outside the request that uses it. It may resolve to
   * whether it removed a live session (the stores of this package do):
   * `false` tells `userSessions()` that a session it listed had moved on or
   * ended by itself, so it is not counted as revoked.
   */
  delete(id: string, c?: Context): unknown;
  /**
   * Optional, and strongly advised for shared stores: moves a session to a
   * new id in one step, for `regenerate()`. Saves `record` under `newId`
   * and removes `oldId`, but only if `oldId` still holds what this
   * request's `get` returned (the context identifies the request) and
   * `newId` holds nothing; otherwise it changes nothing and throws a
   * `SessionConflictError`. The middleware then reloads `oldId`: if the
   * session was ended meanwhile the request fails with 409, else it merges
   * and tries again.
   *
   * Without it the middleware writes the new id with `set` and then
   * deletes the old one: a sign-out or another `regenerate()` that runs in
   * between can then be undone (see SECURITY.md).
   */
  replace?(
    oldId: string,
    newId: string,
    record: SessionRecord,
    c: Context,
  ): unknown;
  /**
   * Optional: the live sessions tied to `user` (saved with `user` in their
   * record), for `userSessions()` to list and revoke. Returns each
   * one's id (the key the store was given) and record; never a session
   * past its `expires`. A store that has it keeps an index from user to
   * ids that follows every `set`, `replace` and `delete` (an entry may lag,
   * as long as this method checks each record it returns) and whose entries
   * expire with their sessions, and its `delete` works without a context.
   *
   * It never misses a session that lives throughout the call, even one
   * that `replace` moves while it runs: that one is listed once, under its
   * old id or its new one. A listing that reads the index and then the
   * records must take care: a move between the two reads takes the record
   * away from the first and the id from the second. (Read both in one
   * step, or read the index again while a record it named is found gone.)
   * "Sign out everywhere" relies on it.
   *
   * The conformance kit's `listsUsers` cases check all of it.
   */
  listUser?(
    user: string,
  ):
    | readonly UserSessionEntry[]
    | Promise<readonly UserSessionEntry[]>;
}

/**
 * One of a user's sessions as a store's `listUser` returns it: the id the
 * store keeps it under, and its record.
 *
 * @example
 * ```ts
 * import type { UserSessionEntry } from "@x/hono-session";
 *
 * const entry: UserSessionEntry = {
 *   id: "R0mLk3lD0-Jb2yVv9Vd4XJ7tZ3y1cQxPq8WnE5fTa2s",
 *   record: { data: {}, expires: Date.now() + 60_000, user: "u-42" },
 * };
 * ```
 */
export interface UserSessionEntry {
  /** The key the store keeps the session under (the hash of its id). */
  id: string;
  /** The session's record, as `get` would return it. */
  record: StoredSession;
}
