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
   * The user this session belongs to, when the app tied it to one; stores
   * that list a user's sessions index it.
   */
  user?: string | undefined;
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
  /** Removes whatever is saved under `id`. */
  delete(id: string, c: Context): unknown;
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
   * Optional: the live sessions of one user (the records whose `user` is
   * `user`), each with the id the store was given for it (the hashed id,
   * never the cookie's value). Expired sessions are left out.
   */
  listUser?(
    user: string,
  ): Promise<{ id: string; record: StoredSession }[]>;
}
