// RedisStore on a Redis Cluster whose keys spread over the masters. Each
// session key lands in a slot of its own; a user's index is two sorted sets
// in the user's slot (a hash tag of the user id puts them together): the
// user's session ids, and the moves in progress ("new old" pairs). No
// command or script touches two slots. What a single server does in one
// script is done here in steps on one slot each, ordered so that every
// promise holds without cross-slot atomicity:
//
// - A session's record is written with a check of what the request read
//   (one script on its key): a sign-out or another write that landed
//   meanwhile is never undone, exactly as on one server.
// - A user's index names every live session of the user (and maybe some
//   that ended). An id is indexed before its record is written (and again
//   after a write that checks nothing, which could follow a revocation),
//   and unindexed only after its record is gone. Members are scored by the
//   latest deadline the session can reach without being written (and
//   scored) again: `limit`, else `expires`. Pruning by score then never
//   drops a live one; a member whose record is gone is never pruned
//   otherwise (it may be a record about to be written).
// - regenerate() moves a session in four steps: (1) the new record, only
//   if the new id is free; (2) the new id in its user's index: for a
//   session of the same user as a move in progress, paired with the old
//   id; (3) the old record deleted, only if it is still what the request
//   read, else the first two steps are undone and the request gets its
//   conflict; (4) the index settled: the new id a member, the old one and
//   the pair gone. A sign-out landing before step 3 makes the move fail:
//   the session ends, no two ids live on. Until step 3 the old id works
//   and nobody knows the new one.
// - A sign-out deletes the record, then its member and the moves from it
//   (a move whose old record someone else deleted fails at step 3: its new
//   record is no session, and must be neither listed nor counted).
// - A listing reads the index (members and pairs, one script), then the
//   records. A pair counts as its old id while that record lives and as
//   its new id once it is gone: one session is never listed twice. A
//   record found gone may have moved after the index was read, and its new
//   id was indexed before it went: so the listing starts over until no
//   record is newly found gone. userSessions() deletes what it listed and
//   lists again until nothing is left, so a session that moves while it
//   revokes is caught at its new id.
import type { SessionRecord, UserSessionEntry } from "../../session_store.ts";
import { decodeRecord } from "../../_lib/record_codec.ts";
import type { Send } from "./client.ts";
import { LIST_ROUNDS, type RedisLayout, ttlOf } from "./layout.ts";

// Every script gets the time (ms) as ARGV[1].

// Writes ARGV[3] with expiry ARGV[4] ms to KEYS[1] if it still holds
// ARGV[2], or nothing when ARGV[5] is "1".
const COMPARE_AND_SET = `
local current = redis.call("GET", KEYS[1])
if ARGV[5] == "1" then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
redis.call("SET", KEYS[1], ARGV[3], "PX", ARGV[4])
return 1`;

// Deletes KEYS[1] if it still holds ARGV[2].
const COMPARE_AND_DELETE = `
if redis.call("GET", KEYS[1]) ~= ARGV[2] then return 0 end
redis.call("DEL", KEYS[1])
return 1`;

// Drops the members of sorted set `key` past now (ARGV[1]) and lets the set
// expire with its last member.
const TIDY = `
local function tidy(key)
  redis.call("ZREMRANGEBYSCORE", key, "-inf", ARGV[1])
  local last = redis.call("ZRANGE", key, -1, -1, "WITHSCORES")
  if last[2] then redis.call("PEXPIREAT", key, math.ceil(tonumber(last[2]))) end
end`;

// Adds ARGV[2] to sorted set KEYS[1] with score ARGV[3] (never lowering a
// score); for the user's members or moves.
const ADD = `${TIDY}
redis.call("ZADD", KEYS[1], "GT", ARGV[3], ARGV[2])
tidy(KEYS[1])
return 1`;

// Settles a move in a user's index: the pair ARGV[2] leaves the moves
// (KEYS[2]); the new id ARGV[3] joins the members (KEYS[1]) with score
// ARGV[4], and the old id ARGV[5] leaves them.
const SETTLE = `${TIDY}
redis.call("ZREM", KEYS[2], ARGV[2])
redis.call("ZADD", KEYS[1], "GT", ARGV[4], ARGV[3])
redis.call("ZREM", KEYS[1], ARGV[5])
tidy(KEYS[1])
tidy(KEYS[2])
return 1`;

// Takes a session that was just ended (ARGV[2]) out of its user's members
// (KEYS[1]), with the moves from it (KEYS[2]: the pairs "new ARGV[2]"): its
// record is gone, so no such move can finish and its new id is no session.
const UNINDEX_ENDED = `
redis.call("ZREM", KEYS[1], ARGV[2])
local from = " " .. ARGV[2]
for _, pair in ipairs(redis.call("ZRANGE", KEYS[2], 0, -1)) do
  if string.sub(pair, -#from) == from then redis.call("ZREM", KEYS[2], pair) end
end
return 1`;

// A user's members (KEYS[1]) and moves (KEYS[2]) not past now (ARGV[1]).
const INDEX = `${TIDY}
tidy(KEYS[1])
tidy(KEYS[2])
return {redis.call("ZRANGE", KEYS[1], 0, -1), redis.call("ZRANGE", KEYS[2], 0, -1)}`;

/** The latest a session can live without being written (and scored) again. */
function reachOf(record: SessionRecord | undefined): number {
  if (record === undefined) return -Infinity;
  return Math.max(record.expires, record.limit ?? -Infinity);
}

/** `user` with `{`, `}` and `%` escaped, for a hash tag. */
function tagOf(user: string): string {
  return user.replace(
    /[{}%]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Keys spread over a cluster's masters; every step on one slot. */
export class ShardedLayout implements RedisLayout {
  readonly #send: Send;
  readonly #prefix: string;

  constructor(send: Send, prefix: string) {
    this.#send = send;
    this.#prefix = prefix;
  }

  key(id: string): string {
    return this.#prefix + id;
  }

  // A user's two sorted sets, in one slot: the hash tag is the user id,
  // its braces (and `%`, the escape) written %7B, %7D, %25, so that a `}`
  // in it can neither end the tag early nor leave it empty (`{}`: Redis
  // would then hash each key whole, into two slots).
  #members(user: string): string {
    return `${this.#prefix}user:{${tagOf(user)}}`;
  }

  #moves(user: string): string {
    return `${this.#members(user)}:moves`;
  }

  // Runs a script on keys of one slot, true if it answered 1.
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
      String(Date.now()),
      ...args,
    ]);
    return Number(answer) === 1;
  }

  async #index(user: string, id: string, record: SessionRecord): Promise<void> {
    await this.#script(ADD, [this.#members(user)], [
      id,
      String(reachOf(record)),
    ]);
  }

  async #unindex(user: string, id: string): Promise<void> {
    const members = this.#members(user);
    await this.#send(members, ["ZREM", members, id]);
  }

  async write(
    id: string,
    json: string,
    record: SessionRecord,
    seen: string | null | undefined,
  ): Promise<boolean> {
    const key = this.key(id);
    const ttl = ttlOf(record);
    const user = record.user;
    const before = typeof seen === "string"
      ? decodeRecord(seen, -Infinity)
      : undefined;
    // Indexed first, unless it already is with a score this record does
    // not pass (the same user, no later deadline).
    if (
      user !== undefined &&
      (before?.user !== user || reachOf(record) > reachOf(before))
    ) await this.#index(user, id, record);
    if (seen === undefined) {
      await this.#send(key, ["SET", key, json, "PX", ttl]);
      // A revocation may have deleted the session (and its member) since
      // it was indexed above; this write, checking nothing, brought it
      // back: index it again.
      if (user !== undefined) await this.#index(user, id, record);
    } else {
      const ok = await this.#script(COMPARE_AND_SET, [key], [
        seen ?? "",
        json,
        ttl,
        seen === null ? "1" : "0",
      ]);
      if (!ok) return false;
    }
    if (before?.user !== undefined && before.user !== user) {
      await this.#unindex(before.user, id);
    }
    return true;
  }

  async move(
    oldId: string,
    newId: string,
    json: string,
    record: SessionRecord,
    seen: string,
  ): Promise<boolean> {
    const [oldKey, newKey] = [this.key(oldId), this.key(newId)];
    const user = record.user;
    const oldUser = decodeRecord(seen, -Infinity)?.user;
    // Within one user's index a move is a pair ("new old") until settled.
    const pair = user !== undefined && user === oldUser
      ? `${newId} ${oldId}`
      : undefined;
    // Where step 2 indexes the new id, and under which name.
    const [index, member] = user === undefined
      ? [undefined, newId]
      : pair !== undefined
      ? [this.#moves(user), pair]
      : [this.#members(user), newId];
    // 1. The new record, if the new id is free. Nobody knows the id yet.
    const created = await this.#send(newKey, [
      "SET",
      newKey,
      json,
      "PX",
      ttlOf(record),
      "NX",
    ]);
    if (created === null || created === undefined) return false;
    let moved = false;
    try {
      // 2. The new id in its user's index, before the old record goes.
      if (index !== undefined) {
        await this.#script(ADD, [index], [member, String(reachOf(record))]);
      }
      // 3. The old record goes, if it is still what the request read.
      moved = await this.#script(COMPARE_AND_DELETE, [oldKey], [seen]);
    } finally {
      // Refused (a sign-out or another write landed first) or failed: the
      // first two steps are taken back; the old record is as it was. Best
      // effort: with Redis down, the new record stays until it expires,
      // under an id no cookie ever carried.
      if (!moved) {
        await this.#send(newKey, ["DEL", newKey])
          .then(() => index && this.#send(index, ["ZREM", index, member]))
          .catch(() => {});
      }
    }
    if (!moved) return false;
    // 4. The index settled. If this fails, the pair or the old member
    // stays until its score passes; listings read them right meanwhile.
    try {
      if (pair !== undefined) {
        await this.#script(SETTLE, [this.#members(user!), this.#moves(user!)], [
          pair,
          newId,
          String(reachOf(record)),
          oldId,
        ]);
      } else if (oldUser !== undefined) await this.#unindex(oldUser, oldId);
    } catch {
      // see above
    }
    return true;
  }

  async remove(id: string, seen: string | null | undefined): Promise<boolean> {
    const key = this.key(id);
    // The record goes first, then its member: a failure in between leaves
    // a member without a record, never a record without its member.
    const gone = await this.#send(key, ["GETDEL", key]);
    const raw = typeof gone === "string" ? gone : seen;
    const user = typeof raw === "string"
      ? decodeRecord(raw, -Infinity)?.user
      : undefined;
    if (user === undefined) return typeof gone === "string";
    if (typeof gone !== "string") {
      // Gone already (moved, or ended): a move from it may be settling.
      await this.#unindex(user, id);
      return false;
    }
    await this.#script(
      UNINDEX_ENDED,
      [this.#members(user), this.#moves(user)],
      [id],
    );
    return true;
  }

  async list(user: string): Promise<UserSessionEntry[]> {
    const keys = [this.#members(user), this.#moves(user)];
    // Ids whose record an earlier round found gone.
    const goneBefore = new Set<string>();
    for (let round = 0;; round++) {
      const answer = await this.#send(keys[0]!, [
        "EVAL",
        INDEX,
        "2",
        ...keys,
        String(Date.now()),
      ]);
      const [members, moves] = (Array.isArray(answer) ? answer : []).map((
        list,
      ) =>
        (Array.isArray(list) ? list : []).filter((m) => typeof m === "string")
      );
      const pairs = (moves ?? []).map((m: string) => m.split(" ", 2));
      const ids = [
        ...new Set([...members ?? [], ...pairs.flat()]),
      ] as string[];
      const records = new Map<string, SessionRecord | undefined>();
      let newlyGone = false;
      const values = await Promise.all(
        ids.map((id) => this.#send(this.key(id), ["GET", this.key(id)])),
      );
      ids.forEach((id, i) => {
        const value = values[i];
        if (typeof value === "string") {
          const record = decodeRecord(value);
          records.set(id, record?.user === user ? record : undefined);
        } else if (!goneBefore.has(id)) {
          goneBefore.add(id);
          newlyGone = true;
        }
      });
      if (!newlyGone) {
        // A pair is its old id while that record lives, else its new id.
        const listed = new Set<string>(members);
        for (const [newId, oldId] of pairs) {
          if (newId === undefined || oldId === undefined) continue;
          listed.add(records.get(oldId) !== undefined ? oldId : newId);
        }
        const found: UserSessionEntry[] = [];
        for (const id of listed) {
          const record = records.get(id);
          if (record !== undefined) found.push({ id, record });
        }
        return found;
      }
      if (round === LIST_ROUNDS) {
        throw new Error(
          `RedisStore: the sessions of this user kept moving while they were listed; gave up after ${LIST_ROUNDS} rounds`,
        );
      }
    }
  }
}
