/**
 * A user's sessions, listed and revoked from anywhere in the app: an
 * account page of active sessions, "sign out other devices", "sign out
 * everywhere" on a password change, or an admin job with no request at
 * hand.
 *
 * It works in store mode, with a store that indexes sessions by user
 * (`listUser`: MemoryStore, DenoKvStore, RedisStore, SqlStore). A session
 * joins its user's list when a handler ties it at sign-in, with
 * `c.session.regenerate({ user })`. A listing never holds a session id or
 * the id's hash: each session is named by a random handle that can only
 * revoke it.
 *
 * Revocation deletes the session from the store, so it ends on the next
 * request on every instance sharing the store. A request that is running
 * meanwhile cannot bring it back: its save finds the session gone and
 * fails with 409 (with a store that checks conflicts, as all four do).
 *
 * Cookie mode keeps nothing on the server, so there is nothing to list or
 * revoke: a sealed cookie stays valid until it expires. There, only
 * rotating the secret ends sessions early, and it ends everyone's.
 *
 * @example An account page and "sign out other devices"
 * ```ts
 * import { Hono } from "hono";
 * import { session, userSessions } from "@x/hono-session";
 * import { MemoryStore } from "@x/hono-session/stores/memory";
 *
 * const store = new MemoryStore();
 * const sessions = userSessions(store);
 *
 * const app = new Hono()
 *   .use(session<{ userId?: string }>({ store }))
 *   .post("/login", (c) => {
 *     c.session.regenerate({ user: "u-42" });
 *     c.session.userId = "u-42";
 *     return c.text("welcome");
 *   })
 *   .get("/account/sessions", async (c) => {
 *     const userId = c.session.userId;
 *     if (!userId) return c.text("Unauthorised", 401);
 *     const list = await sessions.list(userId, c);
 *     return c.json(list.map((s) => ({ handle: s.handle, current: s.current, seen: s.seen })));
 *   })
 *   .post("/account/sign-out-others", async (c) => {
 *     const userId = c.session.userId;
 *     if (!userId) return c.text("Unauthorised", 401);
 *     const ended = await sessions.revokeAll(userId, { except: c });
 *     return c.text(`signed out ${ended} other sessions`);
 *   });
 * ```
 *
 * @module
 */
import type { Context } from "hono";
import type {
  SessionRecord,
  SessionStore,
  UserSessionEntry,
} from "./session_store.ts";
import type { SessionEvent } from "./session_event.ts";
import { isRecord } from "./_core/record.ts";
import { currentRequest } from "./_core/request.ts";
import { checkUserId } from "./_core/choices.ts";
import { toBase64url } from "./_lib/encoding.ts";
import { isBound, readBinding } from "./_device_bound/binding.ts";

/**
 * One of a user's sessions in a listing.
 *
 * @example
 * ```ts
 * import type { UserSession } from "@x/hono-session";
 *
 * function describe(s: UserSession<{ device?: string }>): string {
 *   const seen = s.seen ? new Date(s.seen).toISOString() : "unknown";
 *   return `${s.values.device ?? "a device"}, last seen ${seen}${s.current ? " (this one)" : ""}`;
 * }
 * ```
 */
export interface UserSession<V extends object = Record<string, unknown>> {
  /**
   * Names the session for `revoke()`: random, drawn when the session was
   * tied to its user and kept when `regenerate()` moves it to a new id.
   * Nothing about the session id can be learnt from it.
   */
  readonly handle: string;
  /**
   * Whether it is the session of the request passed to `list()` (always
   * `false` when none was).
   */
  readonly current: boolean;
  /**
   * When the session was created or last regenerated (the sign-in), in
   * milliseconds since the Unix epoch, as `Date.now()` counts (`new
   * Date(created)` shows it). `undefined` only for a record saved without
   * it (a store of the app's own that drops fields).
   */
  readonly created: number | undefined;
  /**
   * When a request last saved it (a change, a renew, or, with an idle
   * timeout, the write-back of activity), in milliseconds since the Unix
   * epoch. `undefined` only for a record saved without it.
   */
  readonly seen: number | undefined;
  /**
   * When it ends unless used again (with an idle timeout, the idle
   * deadline), in milliseconds since the Unix epoch; always in the future
   * when listed.
   */
  readonly expires: number;
  /**
   * Its own choice of persistent cookies ("remember me"): `true` or
   * `false`, or `undefined` when it made none (the middleware's
   * `persistent` option applies).
   */
  readonly persistent: boolean | undefined;
  /**
   * Whether the session is bound to its device (`deviceBound`): the
   * browser registered a key for it and proves it holds it to keep the
   * session's cookie, so a copy of that cookie stops working after a few
   * minutes.
   */
  readonly deviceBound: boolean;
  /**
   * A copy of its values, for what the app records there to show (a device
   * name, the user agent at sign-in).
   */
  readonly values: Partial<V>;
}

/**
 * What {@linkcode userSessions} returns: a user's sessions in one store.
 *
 * @example Sign out everywhere when the password changes
 * ```ts
 * import type { UserSessions } from "@x/hono-session";
 *
 * async function passwordChanged(sessions: UserSessions, userId: string) {
 *   const ended = await sessions.revokeAll(userId);
 *   console.log(`ended ${ended} sessions`);
 * }
 * ```
 */
export interface UserSessions<V extends object = Record<string, unknown>> {
  /**
   * The user's live sessions, newest sign-in first (by `created`,
   * descending; a session without `created` last). With the request's
   * context, its own session is marked `current`. Times are milliseconds
   * since the Unix epoch (see {@linkcode UserSession}).
   */
  list(user: string, c?: Context): Promise<UserSession<V>[]>;
  /**
   * Ends the user's session named by `handle`, also if `regenerate()` moves
   * it to a new id meanwhile. Returns whether it ended one: false for a
   * handle of another user, or of a session that had ended (or ended by
   * itself meanwhile, with a store whose `delete` says so).
   */
  revoke(user: string, handle: string): Promise<boolean>;
  /**
   * Ends all the user's sessions, or all but the one of the request given
   * as `except` ("sign out other devices"): every one that exists when it
   * is called, also one that `regenerate()` moves to a new id meanwhile (a
   * session signed in after it returned lives). Returns how many it ended.
   * To end the current session too, also set `c.session = null` in that
   * request.
   */
  revokeAll(
    user: string,
    options?: { except?: Context | undefined },
  ): Promise<number>;
}

/**
 * Options for {@linkcode userSessions}.
 *
 * @example Log each revoked session
 * ```ts
 * import { userSessions, type UserSessionsOptions } from "@x/hono-session";
 * import { MemoryStore } from "@x/hono-session/stores/memory";
 *
 * const options: UserSessionsOptions = {
 *   onEvent: (event) => console.log("session event", event.type),
 * };
 * const sessions = userSessions(new MemoryStore(), options);
 * ```
 */
export interface UserSessionsOptions {
  /**
   * Receives a `revoked` {@linkcode SessionEvent} for each session that
   * `revoke()` or `revokeAll()` ends, once the store has deleted it. It
   * carries no handle, id or user: safe to log as it is.
   */
  onEvent?: ((event: SessionEvent) => void) | undefined;
}

// Sessions tied before handles were kept in records: 128 bits of the
// SHA-256 of the store key under this label.
const LABEL = "@x/hono-session user session handle\u0000";
const encoder = new TextEncoder();

async function derivedHandle(key: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    encoder.encode(LABEL + key),
  );
  return toBase64url(new Uint8Array(digest, 0, 16));
}

/**
 * How many times `revoke` and `revokeAll` list again to catch a session
 * that `regenerate()` moved to a new id while they were deleting.
 */
const ROUNDS = 8;

function checkUser(user: unknown, method: string): string {
  return checkUserId(user, `userSessions().${method}`);
}

const REVOKED: SessionEvent = Object.freeze({ type: "revoked" });

// The options, checked when userSessions() is called: returns onEvent.
function checkOptions(
  options: unknown,
): ((event: SessionEvent) => void) | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      "userSessions(store, options): options must be an object, such as { onEvent }",
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== "onEvent") {
      throw new TypeError(
        `userSessions(store, options): unknown option "${key}"; it takes onEvent`,
      );
    }
  }
  const { onEvent } = options as UserSessionsOptions;
  if (onEvent !== undefined && typeof onEvent !== "function") {
    throw new TypeError("userSessions(): onEvent must be a function");
  }
  return onEvent;
}

/** A live session of the user, as found in the store. */
interface Found {
  id: string;
  record: SessionRecord;
}

/**
 * Lists and revokes the sessions tied to a user in `store`: the same
 * store object the `session({ store })` middleware uses, or another one
 * on the same database (every instance of the app sees the same
 * sessions).
 *
 * @param store A store with `listUser`.
 * @param options See {@linkcode UserSessionsOptions}.
 * @throws {TypeError} When the store cannot list a user's sessions, or an
 *   option is wrong.
 *
 * @example Revoke one session from an account page
 * ```ts
 * import { userSessions } from "@x/hono-session";
 * import { MemoryStore } from "@x/hono-session/stores/memory";
 *
 * const sessions = userSessions(new MemoryStore());
 * const [first] = await sessions.list("u-42");
 * if (first) await sessions.revoke("u-42", first.handle);
 * ```
 */
export function userSessions<V extends object = Record<string, unknown>>(
  store: SessionStore,
  options?: UserSessionsOptions,
): UserSessions<V> {
  if (
    store === null || typeof store !== "object" ||
    typeof store.listUser !== "function" || typeof store.delete !== "function"
  ) {
    throw new TypeError(
      "userSessions(store): this store cannot list a user's sessions (it has no listUser method); MemoryStore, DenoKvStore, RedisStore and SqlStore can, and SECURITY.md says how a store of your own can",
    );
  }
  const listUser = store.listUser.bind(store);
  const onEvent = checkOptions(options);

  // The live sessions of `user`, checked: the index may lag behind, and a
  // store of the app's own may answer anything.
  async function entries(user: string): Promise<Found[]> {
    const listed: unknown = await listUser(user);
    if (!Array.isArray(listed)) {
      throw new TypeError(
        `userSessions(): the store's listUser() must return an array of { id, record }; got ${
          listed === null ? "null" : typeof listed
        }`,
      );
    }
    const now = Date.now();
    const found = new Map<string, Found>();
    for (const entry of listed as unknown[]) {
      const { id, record } = (entry ?? {}) as Partial<UserSessionEntry>;
      if (typeof id !== "string") {
        throw new TypeError(
          "userSessions(): the store's listUser() must return entries { id: string, record }",
        );
      }
      if (
        !isRecord(record) || record.user !== user || !(record.expires > now)
      ) continue;
      found.set(id, { id, record });
    }
    return [...found.values()];
  }

  // The handle of a listed session.
  async function handleOf({ id, record }: Found): Promise<string> {
    return record.handle ?? await derivedHandle(id);
  }

  // The store keys of the request's own sessions, in every session()
  // middleware it went through.
  const ownKeys = (c: Context | undefined): Set<string> =>
    (c && currentRequest(c)?.storeKeys()) ?? new Set();

  // Deletes the sessions `pick` chooses, listing again until none is left:
  // a regenerate() racing the delete moves a session to a new id (and its
  // index entry with it), where the next listing finds it. A listing never
  // misses a session that moves while it runs (the listUser contract), so
  // a listing with nothing to delete means nothing is left. Returns how
  // many sessions ended, one per handle: a delete that resolves to false
  // removed nothing (the session had moved on, or ended meanwhile).
  async function revokeWhere(
    user: string,
    pick: (found: Found) => boolean | Promise<boolean>,
  ): Promise<number> {
    const ended = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      const targets: Found[] = [];
      for (const found of await entries(user)) {
        if (await pick(found)) targets.push(found);
      }
      if (targets.length === 0) return ended.size;
      for (const found of targets) {
        if (await store.delete(found.id) !== false) {
          const key = found.record.handle ?? found.id;
          if (!ended.has(key)) onEvent?.(REVOKED);
          ended.add(key);
        }
      }
    }
    throw new Error(
      `userSessions(): the sessions of this user kept moving to new ids; still not revoked after ${ROUNDS} rounds`,
    );
  }

  return {
    async list(user, c) {
      checkUser(user, "list");
      const own = ownKeys(c);
      const list: UserSession<V>[] = [];
      for (const found of await entries(user)) {
        const { record } = found;
        let values: Partial<V>;
        try {
          values = JSON.parse(JSON.stringify(record.data));
        } catch {
          continue; // not JSON: no session, as the middleware would see it
        }
        list.push({
          handle: await handleOf(found),
          current: own.has(found.id),
          created: record.created,
          seen: record.seen,
          expires: record.expires,
          persistent: record.persistent,
          deviceBound: isBound(readBinding(record.binding)),
          values,
        });
      }
      return list.sort((a, b) => (b.created ?? 0) - (a.created ?? 0));
    },
    async revoke(user, handle) {
      checkUser(user, "revoke");
      if (typeof handle !== "string" || handle === "") return false;
      const ended = await revokeWhere(
        user,
        async (found) => await handleOf(found) === handle,
      );
      return ended > 0;
    },
    async revokeAll(user, options) {
      checkUser(user, "revokeAll");
      const keep = ownKeys(options?.except);
      return await revokeWhere(user, (found) => !keep.has(found.id));
    },
  };
}
