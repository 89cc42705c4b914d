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
import { commandsOf, type Send } from "./_redis/client.ts";
import type { RedisLayout } from "./_redis/layout.ts";
import { AtomicLayout } from "./_redis/atomic.ts";
import { ShardedLayout } from "./_redis/sharded.ts";

/**
 * An ioredis client: `new Redis(...)` or `new Cluster(...)`, anything with
 * `call(...)`.
 *
 * @example
 * ```ts
 * import { Cluster } from "ioredis";
 * import type { IoRedisLike } from "@x/hono-session/stores/redis";
 *
 * const client: IoRedisLike = new Cluster([{ host: "127.0.0.1", port: 7000 }], {
 *   lazyConnect: true,
 * });
 * ```
 */
export interface IoRedisLike {
  /** Sends one command. */
  call(command: string, ...args: string[]): Promise<unknown>;
}

/**
 * A node-redis v4/v5 client (`createClient(...)`): anything with
 * `sendCommand([...])`.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import type { NodeRedisLike } from "@x/hono-session/stores/redis";
 *
 * const client: NodeRedisLike = createClient({ url: "redis://127.0.0.1:6379" });
 * ```
 */
export interface NodeRedisLike {
  /** Sends one command. */
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * A node-redis v4/v5 cluster client (`createCluster(...)`), which sends a
 * command to the master serving its first key.
 *
 * @example
 * ```ts
 * import { createCluster } from "redis";
 * import type { NodeRedisClusterLike } from "@x/hono-session/stores/redis";
 *
 * const client: NodeRedisClusterLike = createCluster({
 *   rootNodes: [{ url: "redis://127.0.0.1:7000" }],
 * });
 * ```
 */
export interface NodeRedisClusterLike {
  /** Sends one command to the node serving `firstKey`. */
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>;
  /** The master serving a slot (the store recognizes a cluster client by it). */
  getSlotMaster(slot: number): unknown;
}

/** Options for {@linkcode RedisStore}. */
export interface RedisStoreOptions {
  /**
   * Prefix of every key. Default: `"sess:"`. On Redis Cluster, leave hash
   * tags (`{...}`) out of it: a tag in the prefix puts every session in
   * one slot, on one master.
   */
  prefix?: string | undefined;
}

// Whether every key starting with `prefix` hashes to one slot: the prefix
// holds a hash tag, a `{` followed later by a `}` with something between.
function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf("{");
  const close = open < 0 ? -1 : prefix.indexOf("}", open + 1);
  return close > open + 1;
}

// Whether the first `{` of `prefix` is followed at once by `}`: Redis then
// hashes every key whole, and cluster-key-slot (which node-redis and
// ioredis route by) reads on past it, so they disagree on the slot.
function hasEmptyHashTag(prefix: string): boolean {
  const open = prefix.indexOf("{");
  return open >= 0 && prefix[open + 1] === "}";
}
/**
 * Keeps sessions in Redis, each as one string key (`prefix` + id) holding
 * the session's JSON, set with `PX` so Redis expires it at the session's
 * deadline; the deadline is also checked on every read.
 *
 * Pass the client your app already has: an ioredis client or a node-redis
 * (v4/v5) client, single-server or cluster, told apart by shape (`call`,
 * `sendCommand`, a cluster's slot lookup); this module imports neither.
 * Configure the client to fail fast while Redis is down (node-redis
 * `disableOfflineQueue: true`; ioredis `enableOfflineQueue: false,
 * maxRetriesPerRequest: 0`), or requests wait for it instead of failing. A
 * node-redis client needs an `"error"` listener (node-redis ends the
 * process on an unheard error); one without is refused.
 *
 * Writes are checked against what the same request read, with a Lua
 * compare-and-set: if another request changed or deleted the session in
 * between (a sign-out, `regenerate()`, another write), `set` throws a
 * `SessionConflictError` rather than bring the session back or silently
 * undo the other change; the middleware then merges and retries, or
 * answers 409. `regenerate()` moves a session to its new id
 * ({@linkcode RedisStore.replace}) under the same check.
 *
 * Sessions tied to a user (`regenerate({ user })`) are also indexed in a
 * sorted set (`prefix` + `user:` + the user id, members the session ids
 * scored by deadline), its expired members dropped at each write and the
 * set expiring with the user's last session, so that `userSessions(store)`
 * can list and revoke them.
 *
 * On a single server every change is one Lua script. With a cluster client
 * the keys spread over the masters (each session in its own slot, each
 * user's index in the user's), and no command touches two slots: a
 * `regenerate()` takes four steps and a tied session's write up to two,
 * ordered so that every promise above still holds (see SECURITY.md). A hash
 * tag in the prefix (`{sess}:`) would put every key in one slot instead, on
 * one master: the store then uses the single-server scripts.
 *
 * @example With ioredis on a Redis Cluster
 * ```ts
 * import { Hono } from "hono";
 * import { Cluster } from "ioredis";
 * import { session } from "@x/hono-session";
 * import { RedisStore } from "@x/hono-session/stores/redis";
 *
 * const cluster = new Cluster([{ host: "127.0.0.1", port: 7000 }], {
 *   enableOfflineQueue: false, // fail fast while the cluster is down
 *   redisOptions: { maxRetriesPerRequest: 0 },
 * });
 * cluster.on("error", (err) => console.error("redis:", err.message));
 * await new Promise((resolve) => cluster.once("ready", resolve));
 * const app = new Hono().use(session({ store: new RedisStore(cluster) }));
 * ```
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
  readonly #send: Send;
  readonly #layout: RedisLayout;
  // What each request read, for the check in set().
  readonly #read: ReadVersions<string | null> = new ReadVersions();

  /**
   * Wraps a connected client; the store never connects or quits it.
   *
   * @param client A connected ioredis client (`Redis` or `Cluster`) or
   *   node-redis client (`createClient()` or `createCluster()`).
   * @param options See {@linkcode RedisStoreOptions}; every option has a
   *   default, so this may be left out.
   * @throws {TypeError} When `client` is none of these, is a node-redis
   *   client with no `"error"` listener, or an ioredis `Cluster` that reads
   *   from replicas (`scaleReads` other than `"master"`).
   */
  constructor(
    client: IoRedisLike | NodeRedisLike | NodeRedisClusterLike,
    options?: RedisStoreOptions,
  ) {
    const { send, cluster, keyPrefix } = commandsOf(client);
    const prefix = options?.prefix ?? "sess:";
    if (typeof prefix !== "string") {
      throw new TypeError("RedisStore: prefix must be a string");
    }
    // The keys as Redis sees them, after the client's own key prefix.
    const stored = keyPrefix + prefix;
    if (cluster && hasEmptyHashTag(stored)) {
      throw new TypeError(
        `RedisStore: the key prefix "${stored}" holds an empty hash tag ("{}"), which Redis Cluster ignores and cluster clients read differently; leave braces out of the prefix`,
      );
    }
    this.#send = send;
    this.#layout = cluster && !hasHashTag(stored)
      ? new ShardedLayout(send, prefix)
      : new AtomicLayout(send, prefix, keyPrefix);
  }

  /** Returns the session saved under `id`, unless absent or expired. */
  async get(id: string, c?: object): Promise<SessionRecord | undefined> {
    const key = this.#layout.key(id);
    const raw = await this.#send(key, ["GET", key]);
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
    const json = encodeRecord(record);
    const seen = this.#read.get(c, id);
    if (!await this.#layout.write(id, json, record, seen)) {
      throw new SessionConflictError();
    }
    this.#read.remember(c, id, json);
  }

  /**
   * Moves a session to a new id (for `regenerate()`): saves `record` under
   * `newId` and deletes `oldId`, with one checked script over both keys on
   * a single server; on a cluster, in steps on one key each, ordered so
   * that a sign-out or another write landing meanwhile makes it fail
   * whole.
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
    let seen = this.#read.get(c, oldId);
    if (seen === undefined) {
      const oldKey = this.#layout.key(oldId);
      const raw = await this.#send(oldKey, ["GET", oldKey]);
      seen = typeof raw === "string" ? raw : null;
    }
    if (seen === null) throw new SessionConflictError();
    const json = encodeRecord(record);
    if (!await this.#layout.move(oldId, newId, json, record, seen)) {
      throw new SessionConflictError();
    }
    this.#read.remember(c, oldId, null);
    this.#read.remember(c, newId, json);
  }

  /**
   * Removes the session saved under `id`, and its member in its user's
   * index if it was tied to one. Needs no context: a session can be
   * revoked from outside a request.
   *
   * @returns Whether there was a session to remove.
   */
  async delete(id: string, c?: object): Promise<boolean> {
    return await this.#layout.remove(id, this.#read.get(c, id));
  }

  /**
   * The live sessions tied to `user`, for `userSessions()`: the members of
   * the user's index, each checked against its session. A session that
   * `regenerate()` moves while it lists is listed under its old id or its
   * new one, never missed.
   *
   * @param user The id the sessions were tied to with `regenerate({ user })`.
   */
  async listUser(user: string): Promise<UserSessionEntry[]> {
    return await this.#layout.list(user);
  }
}
