/**
 * A session store on Redis, for apps whose instances share sessions.
 *
 * @example With node-redis (`npm:redis`)
 * ```ts
 * import { Hono } from "hono";
 * import { createClient } from "redis";
 * import { session } from "@x/hono-session";
 * import { RedisStore } from "@x/hono-session/stores/redis";
 *
 * const client = createClient({
 *   url: "redis://127.0.0.1:6379",
 *   disableOfflineQueue: true, // fail fast while Redis is down
 * });
 * // Before connect(): without a listener, node-redis ends the process when
 * // Redis drops; with one, requests fail fast (500) until Redis is back.
 * client.on("error", (err) => console.error("redis:", err.message));
 * await client.connect();
 * const app = new Hono().use(session({ store: new RedisStore(client) }));
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
import { lacksErrorListener } from "../_lib/error_listener.ts";

/** An ioredis client (`new Redis(...)`): anything with `call(...)`. */
export interface IoRedisLike {
  /** Sends one command. */
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** A node-redis v4/v5 client (`createClient(...)`): anything with `sendCommand([...])`. */
export interface NodeRedisLike {
  /** Sends one command. */
  sendCommand(args: string[]): Promise<unknown>;
}

/** Options for {@linkcode RedisStore}. */
export interface RedisStoreOptions {
  /** Prefix of every key. Default: `"sess:"`. */
  prefix?: string | undefined;
}

// Writes `value` with expiry `ttl` ms only if the key still holds what the
// request read: `expected`, or nothing when `absent` is "1".
const COMPARE_AND_SET = `
local current = redis.call("GET", KEYS[1])
if ARGV[4] == "1" then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
return 1`;

// Moves a session from KEYS[1] to KEYS[2], only if KEYS[1] still holds
// what the request read (ARGV[1]) and KEYS[2] is free.
const REPLACE = `
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call("EXISTS", KEYS[2]) == 1 then return 0 end
redis.call("SET", KEYS[2], ARGV[2], "PX", ARGV[3])
redis.call("DEL", KEYS[1])
return 1`;

// A user's index (KEYS[2], a sorted set of ids scored by deadline) after a
// write: expired members dropped, and the set itself expiring with its last
// session. ARGV[5] is the id, ARGV[6] its deadline, ARGV[7] now (ms).
const INDEX = `
redis.call("ZADD", KEYS[2], ARGV[6], ARGV[5])
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", ARGV[7])
local last = redis.call("ZRANGE", KEYS[2], -1, -1, "WITHSCORES")
if last[2] then redis.call("PEXPIREAT", KEYS[2], math.ceil(tonumber(last[2]))) end`;

// COMPARE_AND_SET for a session tied to a user, indexing it in the same
// script; ARGV[4] "2" writes without a check.
const COMPARE_AND_SET_USER = `
local current = redis.call("GET", KEYS[1])
if ARGV[4] == "1" then
  if current then return 0 end
elseif ARGV[4] == "0" and current ~= ARGV[1] then
  return 0
end
redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
${INDEX}
return 1`;

// REPLACE for a session tied to a user: moves KEYS[1] to KEYS[3], indexes
// the new id (ARGV[5]) in KEYS[2], and drops the old id (ARGV[8]) from the
// index of the user the old record had, KEYS[4].
const REPLACE_USER = `
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call("EXISTS", KEYS[3]) == 1 then return 0 end
redis.call("SET", KEYS[3], ARGV[2], "PX", ARGV[3])
redis.call("DEL", KEYS[1])
redis.call("ZREM", KEYS[4], ARGV[8])
${INDEX}
return 1`;

// Deletes a session (KEYS[1]) and its member (ARGV[1]) in its user's index
// (KEYS[2]), if it still holds what was read (ARGV[2]); 0 if it changed.
const DELETE_USER = `
if redis.call("GET", KEYS[1]) ~= ARGV[2] then return 0 end
redis.call("DEL", KEYS[1])
redis.call("ZREM", KEYS[2], ARGV[1])
return 1`;

// Drops ids (ARGV) from a user's index (KEYS[1]) whose session keys (the
// remaining KEYS) are still absent: a session saved again meanwhile keeps
// its entry.
const PRUNE = `
for i = 2, #KEYS do
  if redis.call("EXISTS", KEYS[i]) == 0 then
    redis.call("ZREM", KEYS[1], ARGV[i - 1])
  end
end
return 1`;

/**
 * Keeps sessions in Redis, each as one string key (`prefix` + id) holding
 * the session's JSON, set with `PX` so Redis expires it at the session's
 * deadline; the deadline is also checked on every read.
 *
 * Pass the client your app already has: an ioredis client or a node-redis
 * (v4/v5) client, told apart by shape (`call` or `sendCommand`); this
 * module imports neither. Configure the client to fail fast while Redis is
 * down (node-redis `disableOfflineQueue: true`; ioredis
 * `enableOfflineQueue: false, maxRetriesPerRequest: 0`), or requests wait
 * for it instead of failing. A node-redis client needs an `"error"`
 * listener (node-redis ends the process on an unheard error); one without
 * is refused.
 *
 * Writes are checked against what the same request read, with a Lua
 * compare-and-set: if another request changed or deleted the session in
 * between (a sign-out, `regenerate()`, another write), `set` throws a
 * `SessionConflictError` rather than bring the session back or silently
 * undo the other change; the middleware then merges and retries, or
 * answers 409. `regenerate()` moves a session to its new id with one
 * checked script over both keys ({@linkcode RedisStore.replace}).
 *
 * Sessions tied to a user (`regenerate({ user })`) are also indexed in a
 * sorted set (`prefix` + `user:` + the user id, members the session ids
 * scored by deadline), written and deleted by the same scripts as the
 * session, its expired members dropped at each write and the set expiring
 * with the user's last session, so that `userSessions(store)` can list and
 * revoke them. On Redis Cluster, a hash tag in the prefix (`{sess}:`)
 * keeps a session and its index in one slot.
 *
 * @example With ioredis
 * ```ts
 * import { Hono } from "hono";
 * import { Redis } from "ioredis";
 * import { session } from "@x/hono-session";
 * import { RedisStore } from "@x/hono-session/stores/redis";
 *
 * const redis = new Redis("redis://127.0.0.1:6379", {
 *   enableOfflineQueue: false, // fail fast while Redis is down
 *   maxRetriesPerRequest: 0,
 * });
 * redis.on("error", (err) => console.error("redis:", err.message));
 * // With the offline queue off, a command sent before the connection is
 * // ready fails ("Stream isn't writeable and enableOfflineQueue options is
 * // false"): wait for "ready" before serving requests.
 * await new Promise((resolve) => redis.once("ready", resolve));
 * const app = new Hono().use(
 *   session({ store: new RedisStore(redis, { prefix: "myapp:sess:" }) }),
 * );
 * ```
 */
export class RedisStore implements SessionStore {
  readonly #send: (args: string[]) => Promise<unknown>;
  readonly #prefix: string;
  // What each request read, for the check in set().
  readonly #read: ReadVersions<string | null> = new ReadVersions();

  /**
   * Wraps a connected client; the store never connects or quits it.
   *
   * @param client A connected ioredis or node-redis client.
   * @param options See {@linkcode RedisStoreOptions}; every option has a
   *   default, so this may be left out.
   * @throws {TypeError} When `client` is neither, or is a node-redis
   *   client with no `"error"` listener.
   */
  constructor(
    client: IoRedisLike | NodeRedisLike,
    options?: RedisStoreOptions,
  ) {
    const c = client as Partial<IoRedisLike & NodeRedisLike>;
    if (c !== null && typeof c === "object" && typeof c.call === "function") {
      const call = c.call.bind(c);
      this.#send = ([command = "", ...args]) => call(command, ...args);
    } else if (
      c !== null && typeof c === "object" && typeof c.sendCommand === "function"
    ) {
      // node-redis emits "error" when the connection drops; with nobody
      // listening, Node ends the whole process on the first one.
      if (lacksErrorListener(c)) {
        throw new TypeError(
          'RedisStore: this node-redis client has no "error" listener, so the first dropped connection would crash the process; add client.on("error", (err) => console.error(err)) before creating the store',
        );
      }
      this.#send = (args) => c.sendCommand!(args);
    } else {
      throw new TypeError(
        "RedisStore: pass a connected ioredis client (with call()) or node-redis client (with sendCommand())",
      );
    }
    const prefix = options?.prefix ?? "sess:";
    if (typeof prefix !== "string") {
      throw new TypeError("RedisStore: prefix must be a string");
    }
    this.#prefix = prefix;
  }

  /** Returns the session saved under `id`, unless absent or expired. */
  async get(id: string, c?: object): Promise<SessionRecord | undefined> {
    const raw = await this.#send(["GET", this.#prefix + id]);
    const text = typeof raw === "string" ? raw : null;
    this.#read.remember(c, id, text);
    return text === null ? undefined : decodeRecord(text);
  }

  /**
   * Saves `record` under `id`, expiring at `record.expires`.
   *
   * @throws {SessionConflictError} When the session changed since this
   *   request's `get`.
   */
  async set(id: string, record: SessionRecord, c?: object): Promise<void> {
    const key = this.#prefix + id;
    const json = encodeRecord(record);
    const ttl = ttlOf(record);
    const seen = this.#read.get(c, id);
    if (record.user !== undefined) {
      const ok = await this.#send([
        "EVAL",
        COMPARE_AND_SET_USER,
        "2",
        key,
        this.#userKey(record.user),
        seen ?? "",
        json,
        ttl,
        seen === undefined ? "2" : seen === null ? "1" : "0",
        id,
        String(record.expires),
        String(Date.now()),
      ]);
      if (Number(ok) !== 1) throw new SessionConflictError();
    } else if (seen === undefined) {
      await this.#send(["SET", key, json, "PX", ttl]);
    } else {
      const ok = await this.#send([
        "EVAL",
        COMPARE_AND_SET,
        "1",
        key,
        seen ?? "",
        json,
        ttl,
        seen === null ? "1" : "0",
      ]);
      if (Number(ok) !== 1) throw new SessionConflictError();
    }
    this.#read.remember(c, id, json);
  }

  /**
   * Moves a session to a new id (for `regenerate()`) with one Lua script
   * over both keys: saves `record` under `newId` and deletes `oldId`. On
   * Redis Cluster both keys must hash to one slot: put a hash tag in the
   * prefix (`{sess}:`).
   *
   * @throws {SessionConflictError} When `oldId` changed or went away since
   *   the same request's `get`, or `newId` is taken; nothing is changed.
   */
  async replace(
    oldId: string,
    newId: string,
    record: SessionRecord,
    c?: object,
  ): Promise<void> {
    const oldKey = this.#prefix + oldId;
    let seen = this.#read.get(c, oldId);
    if (seen === undefined) {
      const raw = await this.#send(["GET", oldKey]);
      seen = typeof raw === "string" ? raw : null;
    }
    if (seen === null) throw new SessionConflictError();
    const json = encodeRecord(record);
    const ok = await this.#send(
      record.user === undefined
        ? [
          "EVAL",
          REPLACE,
          "2",
          oldKey,
          this.#prefix + newId,
          seen,
          json,
          ttlOf(record),
        ]
        : [
          "EVAL",
          REPLACE_USER,
          "4",
          oldKey,
          this.#userKey(record.user),
          this.#prefix + newId,
          // The old record's user: the same, unless this is a sign-in as
          // someone else.
          this.#userKey(decodeRecord(seen, -Infinity)?.user ?? record.user),
          seen,
          json,
          ttlOf(record),
          "",
          newId,
          String(record.expires),
          String(Date.now()),
          oldId,
        ],
    );
    if (Number(ok) !== 1) throw new SessionConflictError();
    this.#read.remember(c, oldId, null);
    this.#read.remember(c, newId, json);
  }

  /**
   * Removes the session saved under `id`, and its member in its user's
   * index if it was tied to one. Needs no context: a session can be
   * revoked from outside a request.
   */
  async delete(id: string, c?: object): Promise<void> {
    const key = this.#prefix + id;
    // What this request read of it, if it did: no need to read it again.
    let raw: unknown = this.#read.get(c, id);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (raw === undefined) raw = await this.#send(["GET", key]);
      const user = typeof raw === "string"
        ? decodeRecord(raw, -Infinity)?.user
        : undefined;
      if (user === undefined) {
        await this.#send(["DEL", key]);
        return;
      }
      const ok = await this.#send([
        "EVAL",
        DELETE_USER,
        "2",
        key,
        this.#userKey(user),
        id,
        raw as string,
      ]);
      if (Number(ok) === 1) return;
      // Written again since it was read: read again.
      raw = undefined;
    }
    await this.#send(["DEL", key]);
  }

  #userKey(user: string): string {
    return `${this.#prefix}user:${user}`;
  }

  /**
   * The live sessions tied to `user`, for `userSessions()`: the index's
   * members not past their deadline, each checked against its session.
   *
   * @param user The id the sessions were tied to with `regenerate({ user })`.
   */
  async listUser(user: string): Promise<UserSessionEntry[]> {
    const index = this.#userKey(user);
    const members = await this.#send([
      "ZRANGEBYSCORE",
      index,
      `(${Date.now()}`,
      "+inf",
    ]);
    const ids = Array.isArray(members)
      ? members.filter((m): m is string => typeof m === "string")
      : [];
    if (ids.length === 0) return [];
    const raws = await this.#send([
      "MGET",
      ...ids.map((id) => this.#prefix + id),
    ]);
    const found: UserSessionEntry[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const raw = Array.isArray(raws) ? raws[i] : null;
      const record = typeof raw === "string" ? decodeRecord(raw) : undefined;
      if (record?.user === user) found.push({ id, record });
      else if (record === undefined) gone.push(id);
    });
    if (gone.length > 0) {
      await this.#send([
        "EVAL",
        PRUNE,
        String(gone.length + 1),
        index,
        ...gone.map((id) => this.#prefix + id),
        ...gone,
      ]);
    }
    return found;
  }
}

// Milliseconds until the record's deadline, at least 1, for PX.
function ttlOf(record: SessionRecord): string {
  return String(Math.max(1, Math.ceil(record.expires - Date.now())));
}
