// Store mode: the cookie holds a random id, the session stays in a store
// under the id's hash. This mode owns the ids, their hashing (and the memo
// of hashes of ids the store knows), and the conflict loop that merges a
// request's changes with another's or refuses them with 409.
import type { Context } from "hono";
import type { SessionRecord, SessionStore } from "../session_store.ts";
import type { SessionEvent } from "../session_event.ts";
import { SessionConflictError } from "../session_conflict_error.ts";
import type { ResolvedOptions } from "../_core/options.ts";
import type { Loaded, Mode, Saved } from "../_core/mode.ts";
import type { Outgoing } from "../_core/state.ts";
import { expiredReason, type SessionMeta } from "../_core/lifetime.ts";
import { isRecord } from "../_core/record.ts";
import { mergeRecords } from "../_core/merge.ts";
import { Lru } from "../_lib/lru.ts";
import { isToken, randomToken, storeKey } from "./ids.ts";
import {
  isV1Id,
  readV1,
  V1,
  v1Meta,
  v1Record,
} from "../_migrate/hono_session_v1.ts";

/** Id hashes per cache generation: up to twice as many are remembered. */
export const ID_MEMO_LIMIT = 10_000;

/** How many times a conflicting write is merged and tried again. */
const MERGE_ATTEMPTS = 3;

/** What store mode remembers of a loaded session. */
export interface StoreHandle {
  /** The cookie's id. */
  token: string;
  /** The key the store keeps it under: the id's hash. */
  key: string;
  /** The record as the store returned it: the base of a merge. */
  record: SessionRecord;
}

// A record this mode hands to a store carries the JSON of its values under
// this symbol (invisible to JSON, and no one else has the symbol): a store
// that keeps objects (a Map, MemoryStore) gives the same object back, whose
// JSON need not be made again and whose values, parsed by us and never
// handed out, can be shared read-only. (A symbol property, not a WeakMap or
// a class: cheaper to set, and JSON.stringify keeps its fast path.)
const SAVED_JSON = Symbol("the JSON of a saved record's values");

/** What a saved record carries under SAVED_JSON. */
interface SavedValues {
  /** The values object the JSON describes. */
  data: object;
  json: string;
}

/**
 * A record for the store, from its values' JSON and its bookkeeping. Its
 * values object is frozen: it is shared read-only with later requests.
 */
function savedRecord(json: string, meta: SessionMeta): SessionRecord {
  const data = Object.freeze(JSON.parse(json));
  const record = { data, ...meta } as SessionRecord & {
    [SAVED_JSON]?: SavedValues;
  };
  record[SAVED_JSON] = { data, json };
  return record;
}

/**
 * The JSON of the values of a record this mode made, else undefined. A
 * record copied with new values (`{ ...record, data }`) carries the symbol
 * but not the same values object: its JSON is made again.
 */
function savedJsonOf(record: unknown): string | undefined {
  if (typeof record !== "object" || record === null) return undefined;
  const saved = (record as { [SAVED_JSON]?: SavedValues })[SAVED_JSON];
  return saved !== undefined &&
      saved.data === (record as { data?: unknown }).data
    ? saved.json
    : undefined;
}

/** What a store-mode save produced, with the record saved (after any merge). */
export interface StoreSaved extends Saved {
  record: SessionRecord;
}

/** Whether a store method's result must be awaited. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** The session kept in a store; the cookie holds its id. */
export class StoreMode implements Mode<StoreHandle> {
  readonly #options: ResolvedOptions;
  readonly #store: SessionStore;
  /**
   * Store keys of ids the store knows: hashing is cheap but not free.
   * Only ids the store returned a session for enter, so clients cannot
   * fill it with made-up ids.
   */
  readonly #keys: Lru<string, string> = new Lru(ID_MEMO_LIMIT);

  /**
   * Ends the store keys of this middleware's sessions: empty for the
   * default cookie name, else `.` and the cookie's name. Two middlewares
   * sharing a store then never read each other's sessions, whatever id
   * a client puts in which cookie.
   */
  readonly #suffix: string;

  /**
   * With `migrateFrom: "hono-session@1"`: that library's records are read
   * too, under the raw id (a UUID) its cookie holds. Consulted only for a
   * cookie that is not one of our ids.
   */
  readonly #v1: boolean;

  constructor(options: ResolvedOptions, store: SessionStore) {
    this.#options = options;
    this.#store = store;
    const name = options.cookies.wireName;
    this.#suffix = name === "sid" ? "" : `.${name}`;
    this.#v1 = options.migrateFrom === V1;
  }

  /** The key the store keeps the session with id `token` under. */
  keyFor(token: string): string {
    return storeKey(token) + this.#suffix;
  }

  /**
   * What ends this middleware's store keys: empty for the default cookie
   * name, else `.` and the cookie's name.
   */
  get suffix(): string {
    return this.#suffix;
  }

  /** How many id hashes are remembered (for tests: it stays bounded). */
  get memoSize(): number {
    return this.#keys.size;
  }

  #report(event: SessionEvent, c: Context): void {
    this.#options.onEvent?.(event, c);
  }

  load(
    token: string,
    c: Context,
  ): Promise<Loaded<StoreHandle> | undefined> {
    return this.#load(token, c, true) as Promise<
      Loaded<StoreHandle> | undefined
    >;
  }

  /**
   * As {@linkcode load}, but a well-formed id the store holds nothing
   * under gives null, unreported: device binding then looks whether a
   * refresh moved that id's session (see _device_bound/mode.ts).
   */
  loadKnown(
    token: string,
    c: Context,
  ): Promise<Loaded<StoreHandle> | null | undefined> {
    return this.#load(token, c, false);
  }

  async #load(
    token: string,
    c: Context,
    reportUnknown: boolean,
  ): Promise<Loaded<StoreHandle> | null | undefined> {
    // A value that is not one of our ids never reaches the store.
    if (!isToken(token)) {
      if (this.#v1 && isV1Id(token)) return await this.#loadV1(token, c);
      this.#report({ type: "invalid-cookie", reason: "malformed" }, c);
      return undefined;
    }
    const known = this.#keys.get(token);
    const key = known ?? this.keyFor(token);
    const got = this.#store.get(key, c);
    // A synchronous store (a Map, MemoryStore) is not awaited: no extra turn.
    const stored = isThenable(got) ? await got : got;
    if (stored === undefined || stored === null) {
      if (!reportUnknown) return null;
      this.#report({ type: "unknown-id" }, c);
      return undefined;
    }
    const loaded = this.open(token, key, stored, c);
    if (loaded !== undefined && known === undefined) this.#keys.set(token, key);
    return loaded;
  }

  /**
   * What the store returned under `key`, opened as the session of cookie
   * `token`; undefined (reported) when it is not a session. The id is not
   * remembered as naming `key`: device binding opens a session under the
   * key a refresh moved it to, for the cookie of the key before.
   */
  open(
    token: string,
    key: string,
    stored: unknown,
    c: Context,
  ): Loaded<StoreHandle> | undefined {
    // A record this mode saved holds our own parse of its JSON: shareable.
    const saved = savedJsonOf(stored);
    let json = saved;
    if (json === undefined) {
      try {
        if (!isRecord(stored)) throw new TypeError("not a session record");
        json = JSON.stringify(stored.data);
      } catch {
        // What a store returned is not a session: no session.
        this.#report({ type: "invalid-cookie", reason: "bad-record" }, c);
        return undefined;
      }
    }
    const record = stored as SessionRecord;
    const parsed = saved === undefined ? undefined : record.data;
    const { data: _, ...meta } = record;
    return { meta, json, parsed, handle: { token, key, record } };
  }

  // A session of hono-session 1.x, kept under its raw id: served as 1.x
  // would, with its deadline. Its first save moves it to a new id of ours,
  // like regenerate() (see save()).
  async #loadV1(
    token: string,
    c: Context,
  ): Promise<Loaded<StoreHandle> | undefined> {
    const got = this.#store.get(token, c);
    const stored = isThenable(got) ? await got : got;
    if (stored === undefined || stored === null) {
      this.#report({ type: "unknown-id" }, c);
      return undefined;
    }
    const session = readV1(stored);
    if (session === undefined) {
      this.#report({ type: "invalid-cookie", reason: "bad-record" }, c);
      return undefined;
    }
    this.#report({ type: "legacy-session", from: V1, step: "loaded" }, c);
    const meta = v1Meta(session, this.#options, Date.now());
    return {
      meta,
      json: session.json,
      parsed: session.parsed,
      // The record a merge starts from, in our terms.
      handle: { token, key: token, record: { data: session.parsed, ...meta } },
      migrated: V1,
    };
  }

  // A session that keeps its id is written with a checked `set`; a
  // regenerated one moves to a new id with the store's checked `replace`.
  // Either way a conflict with another request reloads the session, merges
  // the two requests' changes and tries again, or fails with 409. `next`:
  // the id a session that moves takes, when the caller drew it (a
  // device-bound session points its identifier there first).
  async save(
    out: Outgoing,
    from: Loaded<StoreHandle> | undefined,
    c: Context,
    next?: string,
  ): Promise<StoreSaved> {
    const store = this.#store;
    const base = from?.handle;
    // Another library's session moves to an id of ours at its first save.
    const migrated = from?.migrated;
    const move = base !== undefined &&
      (out.regenerated || migrated !== undefined);
    // The store's checked move to a new id, if it has one.
    const replace = move ? store.replace : undefined;
    const keep = base !== undefined && !move;
    const token = keep ? base.token : next ?? randomToken();
    const key = keep ? base.key : this.keyFor(token);
    // A 1.x session this request only read (its activity written back):
    // if another request moved or ended it meanwhile, there is nothing to
    // save and nothing to refuse. The browser keeps the cookie it has, and
    // gets the new one from the request that moved it.
    const unsaved: StoreSaved | undefined =
      from?.migrated !== undefined && out.activityOnly
        ? {
          value: from.handle.token,
          expires: from.meta.expires,
          persistent: from.meta.persistent,
          record: from.handle.record,
        }
        : undefined;
    if (move && !replace && migrated !== undefined) {
      // No checked move: at least do not bring back a session ended since
      // this request read it (with a synchronous store, a Map, nothing can
      // run between this look and the move below).
      const got = store.get(base.key, c);
      const still = isThenable(got) ? await got : got;
      if (still === undefined || still === null) {
        if (unsaved) return unsaved;
        this.#reject(
          "the session was ended by another request while this one ran",
          c,
        );
      }
    }
    let record: SessionRecord = savedRecord(out.json, out.meta);
    // What `record` was made from: after a merge, the record merged with.
    let made: SessionRecord | undefined = base?.record;
    for (let attempt = 1;; attempt++) {
      try {
        const done = replace && base
          ? replace.call(store, base.key, key, record, c)
          : store.set(key, record, c);
        if (isThenable(done)) await done;
        if (attempt > 1) {
          this.#report({ type: "conflict", outcome: "merged" }, c);
        }
        break;
      } catch (error) {
        if (
          !(error instanceof SessionConflictError) || base === undefined ||
          made === undefined || (move && !replace)
        ) throw error;
        const merged = await this.#merge(
          base.key,
          made,
          record,
          attempt,
          c,
          migrated !== undefined,
          unsaved !== undefined,
        );
        // Moved or ended meanwhile, and this request only read it.
        if (merged === undefined) return unsaved!;
        [record, made] = merged;
      }
    }
    // Without `replace` (a Map, a store of the app's own): write the new
    // id, then drop the old one. A concurrent sign-out can then be undone
    // (for a 1.x session, only within the look above).
    if (move && !replace) await store.delete(base.key, c);
    if (move) this.#keys.delete(base.token);
    if (migrated !== undefined) {
      this.#report(
        { type: "legacy-session", from: migrated, step: "moved" },
        c,
      );
    }
    return {
      value: token,
      expires: record.expires,
      persistent: record.persistent,
      record,
    };
  }

  // The request cannot be saved without undoing another one's: 409.
  #reject(message: string, c: Context): never {
    this.#report({ type: "conflict", outcome: "rejected" }, c);
    throw new SessionConflictError(message);
  }

  // Another request wrote first: reload, merge, or refuse with 409.
  // Returns the merged record and the one it was merged with. `v1`: the
  // session is still hono-session 1.x's, under its old id. `skipEnded`:
  // a session ended meanwhile is not refused but returns undefined.
  async #merge(
    key: string,
    made: SessionRecord,
    ours: SessionRecord,
    attempt: number,
    c: Context,
    v1: boolean,
    skipEnded: boolean,
  ): Promise<[SessionRecord, SessionRecord] | undefined> {
    const reject = (message: string): never => this.#reject(message, c);
    if (attempt >= MERGE_ATTEMPTS) {
      reject(
        `the session kept changing under this request; gave up after ${MERGE_ATTEMPTS} attempts`,
      );
    }
    const got = await this.#store.get(key, c);
    const current = v1 && got !== undefined && got !== null
      ? v1Record(got, this.#options, Date.now())
      : got;
    if (
      !isRecord(current) ||
      expiredReason(current, this.#options, Date.now())
    ) {
      if (skipEnded) return undefined;
      return reject(
        "the session was ended by another request while this one ran",
      );
    }
    const merged = mergeRecords(made, ours, current) ??
      reject("another request changed the same session value meanwhile");
    const { data, ...meta } = merged;
    return [savedRecord(JSON.stringify(data), meta), current];
  }

  keyOf(loaded: Loaded<StoreHandle>): string {
    return loaded.handle.key;
  }

  async end(loaded: Loaded<StoreHandle>, c: Context): Promise<void> {
    await this.#store.delete(loaded.handle.key, c);
    this.#keys.delete(loaded.handle.token);
  }
}
