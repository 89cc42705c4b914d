/**
 * Events the middleware reports to an `onEvent` hook.
 *
 * @module
 */

/**
 * Something worth knowing happened to a session: a bad cookie, an unknown
 * id, a key about to be retired, a conflict, a session created, moved to a
 * new id, signed out or revoked. Events never carry a cookie value, a
 * session id, its hash, a user id or any session value, so they are safe
 * to log as they are.
 *
 * - `invalid-cookie`: the session cookie was refused; `reason` says why:
 *   `malformed` (not a seal or id at all; with `cookieChunks`, chunks that
 *   do not join into one value: one missing, alone, or beside the plain
 *   cookie), `duplicate` (sent twice, or a chunk sent twice), `oversized`
 *   (over 4096 bytes, more chunks than `cookieChunks` allows, or a
 *   compressed session that would expand past 64 KiB), `bad-seal`
 *   (tampered, truncated, or sealed with a secret or for a purpose this
 *   middleware does not have), `bad-record` (a valid seal or stored entry
 *   that is not a session).
 * - `unknown-id`: a well-formed id the store does not know (an ended
 *   session, or a guess).
 * - `expired`: a session past its deadline was refused; `reason` is
 *   `lifetime` (maxAge), `idle` or `absolute`.
 * - `rotated-secret`: a session sealed with an older secret was accepted;
 *   `keyIndex` is its place in the `secret` list. It is re-sealed with the
 *   newest secret at its next write.
 * - `conflict`: another request changed the session at the same time;
 *   `outcome` is `merged` (both changes kept) or `rejected` (409).
 * - `legacy-session` (with `migrateFrom`): a session written by the library
 *   named in `from` was read (`step: "loaded"`, on every request that
 *   carries one), or saved in this package's format for the first time
 *   (`step: "moved"`: a new cookie, or a new id with the old record
 *   deleted). Once `loaded` no longer comes, no such session is in use.
 * - `device-bound` (with `deviceBound`): `step` is `offered` (a
 *   `regenerate()` response offered registration), `registered` (a browser
 *   proved it holds a key; the session is now device-bound), `challenged`
 *   (a refresh was given a challenge to sign), `refreshed` (a proof from
 *   the registered key got a new cookie), `forwarded` (a request came with
 *   the cookie a refresh had replaced a moment before, while it was still
 *   live, and was served the session), or `ended` (a refresh came for a
 *   session that was signed out, revoked or expired; the browser is told
 *   to stop).
 * - `device-proof-refused`: a registration or refresh (`step`) was
 *   answered with a 4xx and nothing else. `reason`: `malformed` (no proof,
 *   or not a DBSC JWT), `algorithm` (not ES256/RS256, `none`, or not the
 *   registered key's), `key` (no usable public key), `signature` (not
 *   signed by the key: forged, or a wrong key), `challenge` (a challenge
 *   that was never given, already answered, or expired: a replay),
 *   `authorization` (a registration proof that does not echo its
 *   authorization value), `session` (no live session to register, or it
 *   is already registered).
 * - `device-cookie-refused`: a device-bound session's cookie was taken as
 *   missing: `unproven` (its key has not proved itself for longer than
 *   the lifetime: a copied cookie, or a browser that stopped refreshing),
 *   `closed` (a browser-session cookie's session, and the browser was
 *   closed since: its exists cookie is gone), `skipped` (the browser said
 *   it skipped this session's refresh).
 * - `device-refresh-skipped`: a request says the browser did not refresh a
 *   device-bound session (Secure-Session-Skipped); `reason` is the
 *   browser's (`unreachable`, `server_error`, `quota_exceeded`) or `other`.
 * - `created`: a new session was saved for the first time (its cookie
 *   issued): a first write, or a write after `c.session = null`.
 * - `regenerated`: a session the request came with moved to a new id
 *   (`regenerate()`), and was saved.
 * - `signed-out`: the handler ended a session the request came with
 *   (`c.session = null`); it is deleted from the store, its cookies expired.
 * - `revoked`: `userSessions().revoke()` or `revokeAll()` ended one of a
 *   user's sessions; reported to the `onEvent` of `userSessions()`, once per
 *   session, with no request.
 * - `cookie-written`: the session cookie was set; `bytes` is its size as
 *   browsers count it (name and value, summed over its chunks with
 *   `cookieChunks`), against their limit of 4096 bytes per cookie. Not
 *   reported for a write that sends no cookie (store mode, same id and
 *   deadline).
 *
 * Every event is reported once the step it names has succeeded: a save
 * that fails (a store error, a 409) reports no `created`. `created`,
 * `regenerated`, `signed-out` and `cookie-written` are routine (the last
 * comes with every write): a listener that logs problems should pick the
 * types it wants rather than log everything.
 *
 * @example Count refused cookies
 * ```ts
 * import { session, type SessionEvent } from "@x/hono-session";
 *
 * const counts = new Map<string, number>();
 * session({
 *   onEvent(event: SessionEvent) {
 *     const name = "reason" in event ? `${event.type}:${event.reason}` : event.type;
 *     counts.set(name, (counts.get(name) ?? 0) + 1);
 *   },
 * });
 * ```
 */
export type SessionEvent =
  | {
    type: "invalid-cookie";
    reason: "malformed" | "duplicate" | "oversized" | "bad-seal" | "bad-record";
  }
  | { type: "unknown-id" }
  | { type: "expired"; reason: "lifetime" | "idle" | "absolute" }
  | { type: "rotated-secret"; keyIndex: number }
  | { type: "conflict"; outcome: "merged" | "rejected" }
  | {
    type: "legacy-session";
    from: "hono-session@1";
    step: "loaded" | "moved";
  }
  | {
    type: "device-bound";
    step:
      | "offered"
      | "registered"
      | "challenged"
      | "refreshed"
      | "forwarded"
      | "ended";
  }
  | {
    type: "device-proof-refused";
    step: "registration" | "refresh";
    reason:
      | "malformed"
      | "algorithm"
      | "key"
      | "signature"
      | "challenge"
      | "authorization"
      | "session";
  }
  | {
    type: "device-cookie-refused";
    reason: "unproven" | "closed" | "skipped";
  }
  | {
    type: "device-refresh-skipped";
    reason: "unreachable" | "server_error" | "quota_exceeded" | "other";
  }
  | { type: "created" }
  | { type: "regenerated" }
  | { type: "signed-out" }
  | { type: "revoked" }
  | { type: "cookie-written"; bytes: number };
