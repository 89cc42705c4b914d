// RedisStore where every key shares one slot (a single Redis server, or a
// cluster with a hash tag in the prefix): a session is one string key, a
// user's index one sorted set (its session ids scored by deadline), and
// every change to them is one Lua script, so each is atomic.
import type { SessionRecord, UserSessionEntry } from "../../session_store.ts";
import { decodeRecord } from "../../_lib/record_codec.ts";
import type { Send } from "./client.ts";
import { type RedisLayout, ttlOf } from "./layout.ts";

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

// A user's index (KEYS[1]) and its sessions in one step: members past
// their deadline (ARGV[1], now) and members whose session is gone are
// dropped, the others returned as id, value, id, value... Reading both in
// one script, no regenerate() can move a session between the index and
// the records. The session keys are the prefix (ARGV[2]: with the client's
// own key prefix, which the client adds only to KEYS) and the id: in the
// index's slot, as the prefix carries the hash tag on a cluster.
const LIST = `
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", ARGV[1])
local found = {}
for _, id in ipairs(redis.call("ZRANGE", KEYS[1], 0, -1)) do
  local value = redis.call("GET", ARGV[2] .. id)
  if value then
    found[#found + 1] = id
    found[#found + 1] = value
  else
    redis.call("ZREM", KEYS[1], id)
  end
end
return found`;

/** Every key in one slot; every change one script. */
export class AtomicLayout implements RedisLayout {
  readonly #send: Send;
  readonly #prefix: string;
  // The session keys as Redis holds them, for the listing script: the
  // client's own key prefix (ioredis keyPrefix) comes first.
  readonly #storedPrefix: string;

  constructor(send: Send, prefix: string, keyPrefix: string) {
    this.#send = send;
    this.#prefix = prefix;
    this.#storedPrefix = keyPrefix + prefix;
  }

  key(id: string): string {
    return this.#prefix + id;
  }

  #userKey(user: string): string {
    return `${this.#prefix}user:${user}`;
  }

  // Runs a script on `keys` (all in one slot), true if it answered 1.
  async #script(
    script: string,
    keys: string[],
    args: string[],
  ): Promise<boolean> {
    const answer = await this.#send(keys[0]!, [
      "EVAL",
      script,
      String(keys.length),
      ...keys,
      ...args,
    ]);
    return Number(answer) === 1;
  }

  async write(
    id: string,
    json: string,
    record: SessionRecord,
    seen: string | null | undefined,
  ): Promise<boolean> {
    const key = this.key(id);
    const ttl = ttlOf(record);
    if (record.user !== undefined) {
      return await this.#script(
        COMPARE_AND_SET_USER,
        [key, this.#userKey(record.user)],
        [
          seen ?? "",
          json,
          ttl,
          seen === undefined ? "2" : seen === null ? "1" : "0",
          id,
          String(record.expires),
          String(Date.now()),
        ],
      );
    }
    if (seen === undefined) {
      await this.#send(key, ["SET", key, json, "PX", ttl]);
      return true;
    }
    return await this.#script(COMPARE_AND_SET, [key], [
      seen ?? "",
      json,
      ttl,
      seen === null ? "1" : "0",
    ]);
  }

  async move(
    oldId: string,
    newId: string,
    json: string,
    record: SessionRecord,
    seen: string,
  ): Promise<boolean> {
    const oldKey = this.key(oldId);
    if (record.user === undefined) {
      return await this.#script(REPLACE, [oldKey, this.key(newId)], [
        seen,
        json,
        ttlOf(record),
      ]);
    }
    return await this.#script(
      REPLACE_USER,
      [
        oldKey,
        this.#userKey(record.user),
        this.key(newId),
        // The old record's user: the same, unless this is a sign-in as
        // someone else.
        this.#userKey(decodeRecord(seen, -Infinity)?.user ?? record.user),
      ],
      [
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
  }

  async remove(id: string, seen: string | null | undefined): Promise<boolean> {
    const key = this.key(id);
    // What the request read of it, if it did: no need to read it again.
    let raw: unknown = seen;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (raw === undefined) raw = await this.#send(key, ["GET", key]);
      if (typeof raw !== "string") break;
      const user = decodeRecord(raw, -Infinity)?.user;
      if (user === undefined) break;
      if (
        await this.#script(DELETE_USER, [key, this.#userKey(user)], [id, raw])
      ) {
        return true;
      }
      // Written again since it was read: read again.
      raw = undefined;
    }
    return Number(await this.#send(key, ["DEL", key])) === 1;
  }

  async list(user: string): Promise<UserSessionEntry[]> {
    const index = this.#userKey(user);
    const answer = await this.#send(index, [
      "EVAL",
      LIST,
      "1",
      index,
      String(Date.now()),
      this.#storedPrefix,
    ]);
    const found: UserSessionEntry[] = [];
    const pairs = Array.isArray(answer) ? answer : [];
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const [id, value] = [pairs[i], pairs[i + 1]];
      const record = typeof value === "string"
        ? decodeRecord(value)
        : undefined;
      if (typeof id === "string" && record?.user === user) {
        found.push({ id, record });
      }
    }
    return found;
  }
}
