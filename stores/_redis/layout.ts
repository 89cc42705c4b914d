// How RedisStore lays out a session and its user's index over Redis keys,
// and the steps that change them: where every key shares one slot (a single
// server, or a prefix with a hash tag), each change is one Lua script
// (atomic.ts); where keys spread over a cluster's masters, each step
// touches one key and the order of the steps keeps every promise
// (sharded.ts).
import type { SessionRecord, UserSessionEntry } from "../../session_store.ts";

/**
 * The Redis side of RedisStore. `seen` is what the request read of a key:
 * its text, `null` for absent, `undefined` when it did not read it.
 */
export interface RedisLayout {
  /** The key a session id is kept under. */
  key(id: string): string;
  /**
   * Writes `json` (the encoded `record`) under `id`, expiring with the
   * record, if the key still holds `seen` (any value when `undefined`);
   * indexes it under `record.user`. False when the check failed: nothing
   * is written then.
   */
  write(
    id: string,
    json: string,
    record: SessionRecord,
    seen: string | null | undefined,
  ): Promise<boolean>;
  /**
   * Moves a session from `oldId` (holding `seen`) to `newId` (free), with
   * `json` as its new value. False when either check failed: nothing is
   * changed then.
   */
  move(
    oldId: string,
    newId: string,
    json: string,
    record: SessionRecord,
    seen: string,
  ): Promise<boolean>;
  /**
   * Removes the session under `id` and its entry in its user's index.
   * Resolves to whether there was a session to remove.
   */
  remove(id: string, seen: string | null | undefined): Promise<boolean>;
  /**
   * The sessions of `user`, read from its index: every session that lives
   * throughout the call, even one that `move` moves meanwhile (under its
   * old id or its new one).
   */
  list(user: string): Promise<UserSessionEntry[]>;
}

/** Milliseconds until the record's deadline, at least 1, for `PX`. */
export function ttlOf(record: SessionRecord): string {
  return String(Math.max(1, Math.ceil(record.expires - Date.now())));
}

/** How many times a listing reads its user's index again. */
export const LIST_ROUNDS = 8;
