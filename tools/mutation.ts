// Mutation testing of the security- and behaviour-critical code: each
// mutant is a small change a careless refactor could make; it is applied
// to the working tree, the tests that guard that code run, and the file is
// restored. A mutant the tests do not notice (survived) is a promise no
// test holds. Not part of CI (it runs the tests once per mutant).
// `deno task mutation` prints a report and exits non-zero below 90% killed.
//
// Run it on a clean checkout: it edits files in place and puts them back.

import { redisAvailable } from "../support/redis_server.ts";

const root = new URL("../", import.meta.url);

interface Mutant {
  /** The module, relative to the root. */
  file: string;
  /** What a careless change would do, for the report. */
  what: string;
  find: string;
  replace: string;
  /** The test files that guard it (run with `deno test`). */
  tests: string[];
  /** Only with redis-server installed. */
  redis?: boolean;
}

const EDGES = "tests/core/guarantee_edges_test.ts";
const COMPRESSION = "tests/cookie_mode/compression_test.ts";
const CHUNKS = "tests/http/chunks_test.ts";
const CHUNKED_SESSION = "tests/cookie_mode/chunked_session_test.ts";
const MIGRATE_COOKIE = "tests/migrate/cookie_mode_test.ts";
const MIGRATE_STORE = "tests/migrate/store_mode_test.ts";
const IN_PLACE = "tests/core/in_place_test.ts";
const SIGN_OUT = "tests/core/sign_out_test.ts";
const LIMITS = "tests/http/cookie_limits_test.ts";
const STORE_ANSWERS = "tests/store_mode/store_answers_test.ts";
const USER_SESSIONS = "tests/store_mode/user_sessions_test.ts";
const RANDOM_SECRET = "tests/cookie_mode/random_secret_test.ts";
const DBSC = "tests/device_bound/protocol_test.ts";
const DBSC_PROOF = "tests/device_bound/proof_test.ts";
const DBSC_OPTIONS = "tests/device_bound/options_test.ts";
const KIT = "tests/stores/conformance_test.ts";
const DBSC_RACES = "tests/device_bound/interleaving_test.ts";
const MUTANTS: Mutant[] = [
  {
    file: "_cookie_mode/iron.ts",
    what: "a salt serves one seal more than its limit",
    find: "material.uses >= SEALS_PER_SALT",
    replace: "material.uses > SEALS_PER_SALT",
    tests: [EDGES],
  },
  {
    file: "_cookie_mode/iron.ts",
    what: "the MAC is not checked before decrypting",
    find:
      '!await crypto.subtle.verify("HMAC", macKey, mac, encoder.encode(base))',
    replace: "false",
    tests: [
      "tests/http/cookie_input_test.ts",
      "tests/cookie_mode/iron_test.ts",
    ],
  },
  {
    file: "_lib/encoding.ts",
    what: "non-canonical base64url spellings decode",
    find: "UNUSED[text.length & 3]!",
    replace: "0",
    tests: ["tests/cookie_mode/iron_test.ts", "tests/lib/encoding_test.ts"],
  },
  {
    file: "_cookie_mode/mode.ts",
    what: "keys are not bound to the cookie's name (purpose binding)",
    find: "`cookie:${options.cookies.wireName}`",
    replace: '"cookie"',
    tests: ["tests/cookie_mode/rotation_test.ts"],
  },
  {
    file: "_core/lifetime.ts",
    what: "a record without `created` counts as created now",
    find: "meta.created === undefined ||",
    replace: "false ||",
    tests: [EDGES],
  },
  {
    file: "_core/lifetime.ts",
    what: "a session is still alive at its deadline",
    find: "if (meta.expires > now) return undefined;",
    replace: "if (meta.expires >= now) return undefined;",
    tests: ["tests/core/session_api_test.ts", "tests/core/timeouts_test.ts"],
  },
  {
    file: "_core/lifetime.ts",
    what: "touch() moves the deadline only when a write-back is due",
    find: "    this.#expires = next;\n    return worth;",
    replace: "    if (worth) this.#expires = next;\n    return worth;",
    tests: [EDGES],
  },
  {
    file: "_core/options.ts",
    what: "touchFraction is ignored (always 0.1)",
    find: "touchMs: idleMs * touchFraction",
    replace: "touchMs: idleMs * 0.1",
    tests: [EDGES],
  },
  {
    file: "_core/options.ts",
    what: "secrets shorter than 32 characters are accepted",
    find: "if (entry.length < MIN_SECRET_LENGTH) {",
    replace: "if (entry.length < 8) {",
    tests: ["tests/core/options_test.ts"],
  },
  {
    file: "_core/options.ts",
    what: "existsCookieOptions can make the exists cookie HttpOnly",
    find:
      '    ...checkCookieOptions(options.existsCookieOptions, "existsCookieOptions"),\n    httpOnly: false,',
    replace:
      '    httpOnly: false,\n    ...checkCookieOptions(options.existsCookieOptions, "existsCookieOptions"),',
    tests: ["tests/core/options_test.ts"],
  },
  {
    file: "middleware.ts",
    what: "a handler error answered by onError still saves",
    find: "if (c.error || c.res.status >= 500) return;",
    replace: "if (c.res.status >= 500) return;",
    tests: [EDGES],
  },
  {
    file: "middleware.ts",
    what: "a 500 answer saves",
    find: "if (c.error || c.res.status >= 500) return;",
    replace: "if (c.error || c.res.status > 500) return;",
    tests: ["tests/core/session_api_test.ts"],
  },
  {
    file: "_core/request.ts",
    what: "a write that moved the deadline skips its cookie",
    find: "saved.expires === from.meta.expires",
    replace: "true",
    tests: [EDGES],
  },
  {
    file: "_http/cookies.ts",
    what: "the cookie size check leaves out the cookie's name",
    find: "const size = pair.wireName.length + encoded.length;",
    replace: "const size = encoded.length;",
    tests: [EDGES],
  },
  {
    file: "_http/cookies.ts",
    what: "a duplicated session cookie is taken",
    find: "if (countPairs(header, name) !== 1) {",
    replace: "if (countPairs(header, name) > 2) {",
    tests: ["tests/http/cookie_input_test.ts"],
  },
  {
    file: "_http/cookies.ts",
    what: "no Cache-Control on responses that set the cookie",
    find: 'if (!headers.has("cache-control")) {',
    replace: "if (false) {",
    tests: ["tests/http/hygiene_test.ts"],
  },
  {
    file: "_store_mode/ids.ts",
    what: "ids of the wrong length reach the store",
    find: "return value.length === 43 && TOKEN.test(value);",
    replace: "return /^[A-Za-z0-9_-]+$/.test(value);",
    tests: ["tests/http/cookie_input_test.ts"],
  },
  {
    file: "_lib/random.ts",
    what: "ids drawn from fewer random bytes",
    find: "ALPHABET.charCodeAt(bytes[i]! & 63)",
    replace: "ALPHABET.charCodeAt(bytes[i % 8]! & 63)",
    tests: [EDGES],
  },
  {
    file: "_store_mode/mode.ts",
    what: "made-up ids enter the id-hash memo",
    find: "    const got = this.#store.get(key, c);\n",
    replace:
      "    if (known === undefined) this.#keys.set(token, key);\n    const got = this.#store.get(key, c);\n",
    tests: [EDGES],
  },
  {
    file: "_store_mode/mode.ts",
    what: "regenerate() without replace keeps the old id alive",
    find: "if (move && !replace) await store.delete(base.key, c);",
    replace: "",
    tests: ["tests/core/session_api_test.ts"],
  },
  {
    file: "_core/merge.ts",
    what: "two changes of one key merge when they agree",
    find: "if (!bothDroppedFlash) return undefined;",
    replace: "if (!bothDroppedFlash && !same(o, t)) return undefined;",
    tests: ["tests/store_mode/regenerate_race_test.ts"],
  },
  {
    file: "_core/merge.ts",
    what: "values compare by identity",
    find: "  if (a === b) return true;",
    replace: "  return a === b;",
    tests: ["tests/store_mode/merge_rebase_test.ts"],
  },
  {
    file: "_core/merge.ts",
    what: "a flash the other request set is dropped from the list",
    find: "      : [t, theirsFlash.has(key)];",
    replace: "      : [t, false];",
    tests: ["tests/store_mode/merge_rebase_test.ts"],
  },
  {
    file: "_core/merge.ts",
    what: "idle activity carries a merged session past its limit",
    find: "    expires: Math.min(",
    replace: "    expires: Math.max(",
    tests: ["tests/store_mode/merge_rebase_test.ts"],
  },
  {
    file: "stores/memory.ts",
    what: "MemoryStore writes without its version check",
    find:
      "if (seen !== undefined && seen !== (this.#entries.get(id)?.version ?? 0)) {",
    replace: "if (false) {",
    tests: ["tests/store_mode/merge_conflict_test.ts"],
  },
  {
    file: "stores/deno_kv.ts",
    what: "DenoKvStore.replace overwrites a taken id",
    find:
      ".check({ key: oldKey, versionstamp: seen }, { key, versionstamp: null })",
    replace: ".check({ key: oldKey, versionstamp: seen })",
    tests: ["tests/stores/conformance_test.ts"],
  },
  {
    file: "stores/_redis/atomic.ts",
    what: "RedisStore's replace script overwrites a taken id",
    find: 'if redis.call("EXISTS", KEYS[2]) == 1 then return 0 end',
    replace: "",
    tests: ["tests/stores/redis_store_test.ts"],
    redis: true,
  },
  {
    file: "stores/_redis/sharded.ts",
    what: "a cluster move that fails leaves its new record behind",
    find: "      if (!moved) {\n",
    replace: "      if (false) {\n",
    tests: ["tests/stores/redis_cluster_test.ts"],
    redis: true,
  },
  {
    file: "stores/_redis/sharded.ts",
    what: "a cluster move indexes the new id only once the old record is gone",
    find: "      if (index !== undefined) {\n",
    replace: "      if (false) {\n",
    tests: ["tests/stores/redis_cluster_test.ts"],
    redis: true,
  },
  {
    file: "stores/_redis/sharded.ts",
    what: "a cluster listing trusts its first read of the index",
    find: "      if (!newlyGone) {\n",
    replace: "      if (true) {\n",
    tests: ["tests/stores/redis_cluster_test.ts"],
    redis: true,
  },
  {
    file: "stores/_redis/sharded.ts",
    what: "a cluster listing shows a session being moved under both ids",
    find: "listed.add(records.get(oldId) !== undefined ? oldId : newId);",
    replace: "listed.add(oldId).add(newId);",
    tests: ["tests/stores/redis_cluster_test.ts"],
    redis: true,
  },
  {
    file: "stores/_redis/sharded.ts",
    what:
      "a cluster write that pushes the deadline back leaves the index score behind",
    find: "(before?.user !== user || reachOf(record) > reachOf(before))",
    replace: "before?.user !== user",
    tests: ["tests/stores/redis_cluster_test.ts"],
    redis: true,
  },
  {
    file: "stores/_redis/atomic.ts",
    what:
      "RedisStore's listing script builds keys without an ioredis keyPrefix",
    find: "    this.#storedPrefix = keyPrefix + prefix;",
    replace: "    this.#storedPrefix = prefix;",
    tests: ["tests/stores/redis_store_test.ts"],
    redis: true,
  },
  {
    file: "stores/_redis/sharded.ts",
    what: "a `}` in a user id cuts the hash tag of the user's index short",
    find: "/[{}%]/g",
    replace: "/[%]/g",
    tests: ["tests/stores/redis_cluster_test.ts"],
    redis: true,
  },
  {
    file: "stores/_redis/sharded.ts",
    what: "a sign-out leaves the moves from the session it ended in the index",
    find:
      'if string.sub(pair, -#from) == from then redis.call("ZREM", KEYS[2], pair) end',
    replace: "",
    tests: ["tests/stores/redis_cluster_test.ts"],
    redis: true,
  },
  {
    file: "_core/members.ts",
    what: "API member names can hold values",
    find: "if (MEMBERS.has(key)) {",
    replace: "if (false) {",
    tests: ["tests/core/values_test.ts"],
  },
  {
    file: "_core/values.ts",
    what: "-0 is saved as 0 without a word",
    find: "1 / value < 0",
    replace: "false",
    tests: ["tests/core/values_test.ts"],
  },
  {
    file: "user_sessions.ts",
    what: "a listing names sessions by their store key (the id's hash)",
    find: "handle: await handleOf(found),",
    replace: "handle: found.id,",
    tests: ["tests/stores/conformance_test.ts"],
  },
  {
    file: "_http/cookies.ts",
    what: "browser-session cookies get a Max-Age anyway",
    find: "return seconds === undefined",
    replace: "return false",
    tests: ["tests/core/remember_me_test.ts"],
  },
  {
    file: "_core/request.ts",
    what: "a changed cookie-lifetime choice is not sent to the browser",
    find:
      "persistent === (from.meta.persistent ?? this.#options.persistent) &&",
    replace: "",
    tests: ["tests/core/remember_me_test.ts"],
  },
  {
    file: "_core/choices.ts",
    what: "cookie mode ties sessions to users nothing can revoke",
    find: "if (!storeMode) {",
    replace: "if (false) {",
    tests: ["tests/core/remember_me_test.ts"],
  },
  {
    file: "stores/memory.ts",
    what: "the user index keeps ids of sessions that are gone",
    find: "    ids?.delete(id);\n",
    replace: "",
    tests: ["tests/stores/memory_store_test.ts"],
  },
  {
    file: "user_sessions.ts",
    what: "revokeAll misses a session regenerate() moved meanwhile",
    find: "          ended.add(key);\n        }\n      }\n",
    replace:
      "          ended.add(key);\n        }\n      }\n      return ended.size;\n",
    tests: ["tests/stores/conformance_test.ts"],
  },
  {
    file: "user_sessions.ts",
    what: "revokeAll counts a session it found moved on as one it ended",
    find: "if (await store.delete(found.id) !== false) {",
    replace: "if (await store.delete(found.id) !== 42) {",
    tests: ["tests/stores/conformance_test.ts"],
  },
  {
    file: "stores/deno_kv.ts",
    what: "a sign-out leaves the user's index entry behind",
    find: "if (user !== undefined) op.delete(this.#userKey(user, id));",
    replace: "",
    tests: ["tests/stores/deno_kv_store_test.ts"],
  },
  {
    file: "stores/deno_kv.ts",
    what:
      "DenoKvStore reads the index, then the records, once (a move in between is missed)",
    find: "      if (!gone) return found;",
    replace: "      return found;",
    tests: [
      "tests/stores/deno_kv_store_test.ts",
      "tests/stores/conformance_test.ts",
    ],
  },
  {
    file: "_cookie_mode/compression.ts",
    what: "expanding a compressed session does not stop at the limit",
    find: "if (size > limit) {",
    replace: "if (false) {",
    tests: [COMPRESSION],
  },
  {
    file: "_cookie_mode/compression.ts",
    what: "a compressed session is expanded in one piece (no slices)",
    find: "    SLICE,\n    limit,",
    replace: "    Infinity,\n    limit,",
    tests: [COMPRESSION],
  },
  {
    file: "_cookie_mode/seal.ts",
    what: "compression is kept when the seal gets no shorter",
    find: "padded(compressed.length) < padded(plain.length)",
    replace: "compressed.length < plain.length",
    tests: [COMPRESSION],
  },
  {
    file: "_http/chunks.ts",
    what: "chunks beside the plain cookie are read",
    find: "(plain || count === 1 || seen !== (1 << count) - 1)",
    replace: "(count === 1 || seen !== (1 << count) - 1)",
    tests: [CHUNKS],
  },
  {
    file: "_http/chunks.ts",
    what: "a chunk sent twice: the first copy is taken",
    find: '      problem ??= "duplicate";',
    replace: "      continue;",
    tests: [CHUNKS],
  },
  {
    file: "_http/chunks.ts",
    what: "a chunk holds one byte more than a cookie may",
    find: "capacity: COOKIE_LIMIT - wireName.length - 2,",
    replace: "capacity: COOKIE_LIMIT - wireName.length - 1,",
    tests: [CHUNKS],
  },
  {
    file: "_http/chunks.ts",
    what: "a write expires only the chunk names the request carried",
    find: "if (i < layout.max || (carried & (1 << i)) !== 0) {",
    replace: "if ((carried & (1 << i)) !== 0) {",
    tests: [CHUNKED_SESSION],
  },
  {
    file: "_http/chunks.ts",
    what: "writing chunks leaves the plain cookie in place",
    find:
      '    lines.push(line(cookies.session, "", 0));\n    used = pieces.length;',
    replace: "    used = pieces.length;",
    tests: [CHUNKED_SESSION],
  },
  {
    file: "stores/sql.ts",
    what: "SqlStore writes whatever version the row holds now",
    find: "WHERE id = $1 AND version = $6 RETURNING version",
    replace: "WHERE id = $1 RETURNING version",
    tests: ["tests/stores/sql_store_test.ts"],
  },
  {
    file: "stores/sql.ts",
    what: "SqlStore's replace moves a session another request changed",
    find: "`WHERE id = $1 AND version = $7 ` +",
    replace: "`WHERE id = $1 ` +",
    tests: ["tests/stores/sql_store_test.ts"],
  },
  {
    file: "stores/sql.ts",
    what: "SqlStore returns rows past their deadline",
    find:
      "get: `SELECT data, version FROM ${t} WHERE id = $1 AND expires > $2`",
    replace: "get: `SELECT data, version FROM ${t} WHERE id = $1 AND $2 = $2`",
    tests: ["tests/stores/sql_store_test.ts"],
  },
  {
    file: "stores/sql.ts",
    what: "SqlStore's listUser reads every user's rows, not the user's",
    find: "WHERE user_id = $1 AND expires > $2",
    replace: "WHERE (user_id = $1 OR 1 = 1) AND expires > $2",
    tests: ["tests/stores/sql_store_test.ts"],
  },
  {
    file: "stores/sql.ts",
    what: "SqlStore lists a row whose record names another user",
    find: "      if (record?.user === user) {\n        sessions.push",
    replace: "      if (record) {\n        sessions.push",
    tests: ["tests/stores/sql_store_test.ts"],
  },
  {
    file: "_migrate/hono_session_v1.ts",
    what: "migrateFrom: a 1.x session gets a new deadline instead of its own",
    find: "session.expires ?? now + maxAge,",
    replace: "now + maxAge,",
    tests: [MIGRATE_COOKIE, MIGRATE_STORE],
  },
  {
    file: "_migrate/hono_session_v1.ts",
    what:
      "migrateFrom: with idleTimeout, a 1.x session only read opens a new idle window at every request",
    find: "now + settings.idleMs - settings.touchMs",
    replace: "now + settings.idleMs",
    tests: [MIGRATE_COOKIE, MIGRATE_STORE],
  },
  {
    file: "_migrate/hono_session_v1.ts",
    what:
      "migrateFrom: anything sealed with iron and the raw secret is a 1.x cookie, deadline or not",
    find: "return session?.expires === undefined ? undefined : session;",
    replace: "return session;",
    tests: [MIGRATE_COOKIE],
  },
  {
    file: "_migrate/hono_session_v1.ts",
    what: "migrateFrom: ids 1.x never drew reach the store",
    find: "value.length === 36 && UUID.test(value)",
    replace: "value.length === 36",
    tests: [MIGRATE_STORE],
  },
  {
    file: "_migrate/hono_session_v1.ts",
    what: "migrateFrom: _flashKeys that are not names are taken",
    find: '!keys.every((k) => typeof k === "string")',
    replace: "false",
    tests: [MIGRATE_COOKIE, MIGRATE_STORE],
  },
  {
    file: "_store_mode/mode.ts",
    what: "migrateFrom: a 1.x session is saved under its 1.x id, never moved",
    find: "(out.regenerated || migrated !== undefined)",
    replace: "out.regenerated",
    tests: [MIGRATE_STORE],
  },
  {
    file: "_core/state.ts",
    what:
      "migrateFrom: a write that finds its 1.x session moved meanwhile is dropped, not refused",
    find: "activityOnly: !changed,",
    replace: "activityOnly: true,",
    tests: [MIGRATE_STORE],
  },
  {
    file: "_store_mode/mode.ts",
    what:
      "migrateFrom: without replace, a 1.x session signed out meanwhile is moved back to life",
    find: "if (move && !replace && migrated !== undefined) {",
    replace: "if (false) {",
    tests: [MIGRATE_STORE],
  },
  // Issue 24: values changed in place, sign-out with some of the cookies,
  // limits at exactly their boundary, what a store may answer, the order
  // and checks of userSessions().list(), the stores' own checks, and the
  // random-secret warning.
  {
    file: "_core/state.ts",
    what: "reading an object value does not mark it as possibly edited",
    find:
      '    if (typeof value === "object" && value !== null) this.#escaped = true;\n    return value;',
    replace: "    return value;",
    tests: [IN_PLACE],
  },
  {
    file: "_core/state.ts",
    what: "values edited in place are not serialised at the end",
    find: "const json = this.#written || this.#escaped",
    replace: "const json = this.#written",
    tests: [IN_PLACE],
  },
  {
    file: "_core/state.ts",
    what: "objects reached through Object.values/entries are not marked",
    find:
      '    if (typeof descriptor?.value === "object" && descriptor.value !== null) {\n      this.#escaped = true;\n    }\n',
    replace: "",
    tests: [IN_PLACE],
  },
  {
    file: "_core/state.ts",
    what: "object values are handed out from the shared parse",
    find:
      '        if (typeof value !== "object" || value === null) return value;',
    replace: "        return value;",
    tests: [IN_PLACE],
  },
  {
    file: "_core/state.ts",
    what: "the values copy shares nested objects with the shared parse",
    find:
      "      this.#shared = undefined;\n      Object.assign(this.#data, JSON.parse(this.#initial));",
    replace:
      "      Object.assign(this.#data, this.#shared ?? JSON.parse(this.#initial));\n      this.#shared = undefined;",
    tests: [IN_PLACE],
  },
  {
    file: "_core/request.ts",
    what: "sign-out with only the exists cookie clears nothing",
    find:
      "|| this.#carried !== 0 ||\n      readCookie(this.#c, cookies.existsWireName) !== undefined",
    replace: "|| this.#carried !== 0",
    tests: [SIGN_OUT],
  },
  {
    file: "_core/request.ts",
    what: "sign-out with only some chunks clears nothing",
    find: "this.#cookieValue !== undefined || this.#carried !== 0 ||",
    replace: "this.#cookieValue !== undefined ||",
    tests: [SIGN_OUT],
  },
  {
    file: "_http/chunks.ts",
    what: "sign-out expires only the plain name and the exists cookie",
    find:
      '  const lines = [line(cookies.session, "", 0)];\n  expireChunks(lines, layout, 0, carried);',
    replace: '  const lines = [line(cookies.session, "", 0)];',
    tests: [SIGN_OUT],
  },
  {
    file: "_http/chunks.ts",
    what: "sign-out leaves the plain name",
    find:
      '  const lines = [line(cookies.session, "", 0)];\n  expireChunks(lines, layout, 0, carried);',
    replace:
      "  const lines: string[] = [];\n  expireChunks(lines, layout, 0, carried);",
    tests: [SIGN_OUT],
  },
  {
    file: "_http/cookies.ts",
    what: "a cookie of exactly 4096 bytes is refused",
    find: "if (size > COOKIE_LIMIT) {",
    replace: "if (size >= COOKIE_LIMIT) {",
    tests: [LIMITS],
  },
  {
    file: "_http/cookies.ts",
    what: "a cookie of exactly 4096 bytes is not read",
    find: "if (name.length + value.length > COOKIE_LIMIT) {",
    replace: "if (name.length + value.length >= COOKIE_LIMIT) {",
    tests: [LIMITS],
  },
  {
    file: "_http/cookies.ts",
    what: "the size check counts the value before encoding",
    find: "const size = pair.wireName.length + encoded.length;",
    replace: "const size = pair.wireName.length + value.length;",
    tests: [LIMITS],
  },
  {
    file: "_http/chunks.ts",
    what: "a value of exactly one cookie is chunked",
    find: "if (size <= COOKIE_LIMIT) {",
    replace: "if (size < COOKIE_LIMIT) {",
    tests: [CHUNKS],
  },
  {
    file: "_http/chunks.ts",
    what: "a value filling every chunk exactly is refused",
    find: "encoded.length <= layout.max * layout.capacity",
    replace: "encoded.length < layout.max * layout.capacity",
    tests: [CHUNKS],
  },
  {
    file: "_http/chunks.ts",
    what: "a chunk of exactly 4096 bytes is not read",
    find: "layout.prefix.length + 1 + value.length > COOKIE_LIMIT",
    replace: "layout.prefix.length + 1 + value.length >= COOKIE_LIMIT",
    tests: [CHUNKS],
  },
  {
    file: "_core/options.ts",
    what: "maxAge of exactly 400 days is refused",
    find: "maxAge > MAX_AGE_LIMIT",
    replace: "maxAge >= MAX_AGE_LIMIT",
    tests: ["tests/core/options_test.ts"],
  },
  {
    file: "_core/options.ts",
    what: "a secret of exactly 32 characters is refused",
    find: "if (entry.length < MIN_SECRET_LENGTH) {",
    replace: "if (entry.length <= MIN_SECRET_LENGTH) {",
    tests: ["tests/core/options_test.ts"],
  },
  {
    file: "_core/options.ts",
    what: "cookieChunks: 10 is refused",
    find: "value < 2 || value > MAX_CHUNKS",
    replace: "value < 2 || value >= MAX_CHUNKS",
    tests: ["tests/core/options_test.ts"],
  },
  {
    file: "_core/choices.ts",
    what: "a user id of exactly 512 characters is refused",
    find: "user.length > USER_ID_LIMIT",
    replace: "user.length >= USER_ID_LIMIT",
    tests: [USER_SESSIONS],
  },
  {
    file: "_cookie_mode/mode.ts",
    what: "compression is tried only above 4096 whatever the cookie name",
    find: "above: COOKIE_LIMIT - options.cookies.wireName.length,",
    replace: "above: COOKIE_LIMIT,",
    tests: [LIMITS],
  },
  {
    file: "_cookie_mode/compression.ts",
    what: "expanding to exactly the limit is refused",
    find: "if (size > limit) {",
    replace: "if (size >= limit) {",
    tests: [COMPRESSION],
  },
  {
    file: "_cookie_mode/seal.ts",
    what: "a seal of exactly one cookie is compressed anyway",
    find:
      "if (iron.sealedLength(plain.length) <= compression.above) return plain;",
    replace:
      "if (iron.sealedLength(plain.length) < compression.above) return plain;",
    tests: [LIMITS],
  },
  {
    file: "_cookie_mode/seal.ts",
    what: "an encoder returning an empty string is taken",
    find: 'if (typeof sealed !== "string" || sealed.length === 0) {',
    replace: 'if (typeof sealed !== "string") {',
    tests: ["tests/cookie_mode/encoder_test.ts"],
  },
  {
    file: "_store_mode/mode.ts",
    what: "a store answering null for a miss is a bad record",
    find: "if (stored === undefined || stored === null) {",
    replace: "if (stored === undefined) {",
    tests: [STORE_ANSWERS],
  },
  {
    file: "_store_mode/mode.ts",
    what: "a merge takes an expired record as the current session",
    find:
      "!isRecord(current) ||\n      expiredReason(current, this.#options, Date.now())",
    replace: "!isRecord(current)",
    tests: [STORE_ANSWERS],
  },
  {
    file: "_store_mode/mode.ts",
    what: "a merge takes null as a record",
    find:
      "!isRecord(current) ||\n      expiredReason(current, this.#options, Date.now())",
    replace: "expiredReason(current as never, this.#options, Date.now())",
    tests: [STORE_ANSWERS],
  },
  {
    file: "_core/request.ts",
    what: "an expired session the store returned is left in the store",
    find:
      '        onEvent?.({ type: "expired", reason: expired }, c);\n        await this.#mode.end(loaded, c);',
    replace: '        onEvent?.({ type: "expired", reason: expired }, c);',
    tests: [STORE_ANSWERS],
  },
  {
    file: "_core/lifetime.ts",
    what: "a session exactly at its absolute deadline is alive",
    find: "meta.created + settings.absoluteMs <= now",
    replace: "meta.created + settings.absoluteMs < now",
    tests: ["tests/core/timeouts_test.ts"],
  },
  {
    file: "user_sessions.ts",
    what: "list() in the store's order",
    find: "return list.sort((a, b) => (b.created ?? 0) - (a.created ?? 0));",
    replace: "return list;",
    tests: [USER_SESSIONS],
  },
  {
    file: "user_sessions.ts",
    what: "list() oldest first",
    find: "return list.sort((a, b) => (b.created ?? 0) - (a.created ?? 0));",
    replace: "return list.sort((a, b) => (a.created ?? 0) - (b.created ?? 0));",
    tests: [USER_SESSIONS],
  },
  {
    file: "user_sessions.ts",
    what: "list() takes records of other users a store answers",
    find:
      "!isRecord(record) || record.user !== user || !(record.expires > now)",
    replace: "!isRecord(record) || !(record.expires > now)",
    tests: [USER_SESSIONS],
  },
  {
    file: "user_sessions.ts",
    what: "list() takes expired records a store answers",
    find:
      "!isRecord(record) || record.user !== user || !(record.expires > now)",
    replace: "!isRecord(record) || record.user !== user",
    tests: [USER_SESSIONS],
  },
  {
    file: "user_sessions.ts",
    what: "list() hands out the store's own values object",
    find: "values = JSON.parse(JSON.stringify(record.data));",
    replace: "values = record.data as Partial<V>;",
    tests: [USER_SESSIONS],
  },
  {
    file: "user_sessions.ts",
    what: "list() marks no session current",
    find: "current: own.has(found.id),",
    replace: "current: false,",
    tests: [USER_SESSIONS],
  },
  {
    file: "user_sessions.ts",
    what: "revokeAll ignores except",
    find: "return await revokeWhere(user, (found) => !keep.has(found.id));",
    replace: "return await revokeWhere(user, () => true);",
    tests: [USER_SESSIONS],
  },
  {
    file: "user_sessions.ts",
    what: "revoke(user, handle) ends every session of the user",
    find: "        async (found) => await handleOf(found) === handle,",
    replace: "        async () => true,",
    tests: ["tests/stores/conformance_test.ts"],
  },
  {
    file: "stores/memory.ts",
    what: "MemoryStore serves a record at its exact deadline",
    find: "if (entry !== undefined && entry.record.expires <= Date.now()) {",
    replace: "if (entry !== undefined && entry.record.expires < Date.now()) {",
    tests: ["tests/stores/memory_store_test.ts"],
  },
  {
    file: "stores/memory.ts",
    what: "MemoryStore evicts one entry early",
    find: "if (this.#entries.size > this.#maxEntries) {",
    replace: "if (this.#entries.size >= this.#maxEntries) {",
    tests: ["tests/stores/memory_store_test.ts"],
  },
  {
    file: "stores/memory.ts",
    what: "MemoryStore evicts by insertion, not use",
    find:
      "      this.#entries.delete(id);\n      this.#entries.set(id, entry);\n",
    replace: "",
    tests: ["tests/stores/memory_store_test.ts"],
  },
  {
    file: "stores/memory.ts",
    what: "MemoryStore replace moves a session nobody read",
    find: "      (seen === undefined && current === undefined) ||\n",
    replace: "",
    tests: ["tests/stores/conformance_test.ts"],
  },
  {
    file: "stores/memory.ts",
    what: "MemoryStore's sweep spares entries at their deadline",
    find: "      if (entry.record.expires <= now) {",
    replace: "      if (entry.record.expires < now) {",
    tests: ["tests/stores/memory_store_test.ts"],
  },
  {
    file: "_lib/record_codec.ts",
    what: "text stores serve records past their deadline",
    find: 'return typeof expires === "number" && expires > now',
    replace: 'return typeof expires === "number"',
    tests: ["tests/stores/deno_kv_store_test.ts"],
  },
  {
    file: "_lib/record_codec.ts",
    what: "text stores serve records at their exact deadline",
    find: 'return typeof expires === "number" && expires > now',
    replace: 'return typeof expires === "number" && expires >= now',
    tests: ["tests/stores/deno_kv_store_test.ts"],
  },
  {
    file: "stores/deno_kv.ts",
    what: "DenoKvStore lists other users' records",
    find: "      if (record?.user === user) found.push({ id, record });",
    replace: "      if (record) found.push({ id, record });",
    tests: ["tests/stores/deno_kv_store_test.ts"],
  },
  {
    file: "stores/_redis/atomic.ts",
    what: "RedisStore lists a session of another user its index still names",
    find: 'if (typeof id === "string" && record?.user === user) {',
    replace: 'if (typeof id === "string" && record !== undefined) {',
    tests: ["tests/stores/redis_store_test.ts"],
    redis: true,
  },
  {
    file: "_cookie_mode/random_secret.ts",
    what: "the random-secret warning is printed every time",
    find: "  if (warned) return;\n",
    replace: "",
    tests: [RANDOM_SECRET],
  },
  {
    file: "_cookie_mode/mode.ts",
    what: "a restart's old cookies are said to come from another process",
    find: "if (opened.otherKey && this.#random && this.#sealed) {",
    replace: "if (opened.otherKey && this.#random) {",
    tests: [RANDOM_SECRET],
  },
  {
    file: "_cookie_mode/random_secret.ts",
    what: "Deno's variables are read without the permission",
    find: '          "granted"\n',
    replace: '          "granted" && false\n',
    tests: [RANDOM_SECRET],
  },
  {
    file: "_cookie_mode/random_secret.ts",
    what: "wrangler dev on localhost counts as a Workers deployment",
    find: " && !isLoopback(url)",
    replace: "",
    tests: [RANDOM_SECRET],
  },
  {
    file: "_cookie_mode/mode.ts",
    what: "the environment is never looked at",
    find: "    this.#looked = !this.#random;\n",
    replace: "    this.#looked = true;\n",
    tests: [RANDOM_SECRET],
  },
  {
    file: "stores/unstorage.ts",
    what: "UnstorageStore hands the driver no ttl",
    find: "encodeRecord(record), { ttl });",
    replace: "encodeRecord(record));",
    tests: ["tests/stores/unstorage_store_test.ts"],
  },
  {
    file: "_device_bound/mode.ts",
    what: "deviceBound: a cookie is accepted past the lifetime",
    find: "if (!(binding.until > Date.now())) {",
    replace: "if (false) {",
    tests: [DBSC],
  },
  {
    file: "_device_bound/mode.ts",
    what: "deviceBound: Secure-Session-Skipped is ignored",
    find: "skipped !== null &&",
    replace: "false &&",
    tests: [DBSC],
  },
  {
    file: "_device_bound/proof.ts",
    what: "deviceBound: a proof whose signature does not verify is accepted",
    find: "if (!ok) {",
    replace: "if (false) {",
    tests: [DBSC_PROOF, DBSC],
  },
  {
    file: "_device_bound/proof.ts",
    what: "deviceBound: a proof is checked against a key of another algorithm",
    find: "if (proof.alg !== expected) {",
    replace: "if (false) {",
    tests: [DBSC_PROOF],
  },
  {
    file: "_device_bound/proof.ts",
    what: "deviceBound: a P-256 point off the curve is taken",
    find: "if (!onCurve(x, y)) {",
    replace: "if (false) {",
    tests: [DBSC_PROOF],
  },
  {
    file: "_device_bound/proof.ts",
    what: 'deviceBound: typ is not checked ("dbsc+jwt")',
    find: 'if (head.typ !== "dbsc+jwt")',
    replace: "if (false)",
    tests: [DBSC_PROOF],
  },
  {
    file: "_device_bound/registration.ts",
    what: "deviceBound: a registration proof need not echo the authorization",
    find: "if (proof.authorization !== challenge.authorization) {",
    replace: "if (false) {",
    tests: [DBSC],
  },
  {
    file: "_device_bound/registration.ts",
    what: "deviceBound: a registered session registers again",
    find: "if (pending === null || isBound(pending)) {",
    replace: "if (pending === null) {",
    tests: [DBSC],
  },
  {
    file: "_device_bound/refresh.ts",
    what: "deviceBound: a refresh proof needs no live challenge (replays pass)",
    find: "if (findChallenge(binding.challenges, proof.jti) === undefined) {",
    replace: "if (false) {",
    tests: [DBSC],
  },
  {
    file: "_device_bound/refresh.ts",
    what: "deviceBound: a refresh copies the session, the old id lives on",
    find: "await e.store.replace!(found.key, next, record, c);",
    replace: "await e.store.set(next, record, c);",
    tests: [DBSC],
  },
  {
    file: "_device_bound/refresh.ts",
    what: "deviceBound: an expired session goes on refreshing",
    find: "if (expiredReason(found.record, e.options, Date.now())) {",
    replace: "if (false) {",
    tests: [DBSC],
  },
  {
    file: "_device_bound/binding.ts",
    what: "deviceBound: an expired challenge is still answered",
    find: "list?.find((c) => c.value === value && c.expires > now)",
    replace: "list?.find((c) => c.value === value)",
    tests: [DBSC],
  },
  {
    file: "_device_bound/sessions.ts",
    what: "deviceBound: sign-out leaves the identifier's entry behind",
    find: "    await this.forget(id, c);\n  }\n}",
    replace: "  }\n}",
    tests: [DBSC],
  },
  {
    file: "_device_bound/sessions.ts",
    what:
      "deviceBound: a sign-out racing a refresh leaves the session where the refresh moved it",
    find: "if (other !== key) await",
    replace: "if (false) await",
    tests: [KIT],
  },
  {
    file: "_device_bound/mode.ts",
    what:
      "deviceBound: a regenerate() points the identifier at its new id and the old one only (a refresh's move under way is forgotten)",
    find: "movedPointer(pointer, key, this.#inner.keyFor(next))",
    replace: "{ session: this.#inner.keyFor(next), previous: [key] }",
    tests: [DBSC_RACES],
  },
  {
    file: "_device_bound/mode.ts",
    what: "deviceBound: a registration offer replaces another middleware's",
    find: "{ append: true },",
    replace: "",
    tests: [DBSC],
  },
  {
    file: "_device_bound/refresh.ts",
    what:
      "deviceBound: an early refresh does not forward the old cookie (requests on their way lose the session)",
    find: "if (binding.until > now) {",
    replace: "if (false) {",
    tests: [DBSC],
  },
  {
    file: "_device_bound/refresh.ts",
    what:
      "deviceBound: a refresh points the identifier at its new key and the old one only (a racing refresh's move under way is forgotten)",
    find: "movedPointer(found.pointer, found.key, next)",
    replace: "{ session: next, previous: [found.key] }",
    tests: [KIT],
  },
  {
    file: "_device_bound/sessions.ts",
    what:
      "deviceBound: a lookup that finds no key holding the session takes it for ended, though a move changed the entry meanwhile",
    find: "again === undefined || samePointer(again, pointer)",
    replace: "true",
    tests: [KIT],
  },
  {
    file: "_device_bound/sessions.ts",
    what:
      "deviceBound: a lookup reads the key a move goes to before the key it leaves",
    find: "[...pointer.previous, pointer.session]",
    replace: "[pointer.session, ...pointer.previous]",
    tests: [KIT],
  },
  {
    file: "_device_bound/mode.ts",
    what:
      "deviceBound: a forwarding entry leads to the session whatever moved it (after a regenerate(), or a move that failed)",
    find: "!found.binding.from?.includes(key)",
    replace: "false",
    tests: [DBSC],
  },
  {
    file: "_device_bound/mode.ts",
    what:
      "deviceBound: regenerate() keeps the cookies early refreshes forwarded",
    find: "out.meta.binding = rest;",
    replace: "",
    tests: [DBSC],
  },
  {
    file: "_device_bound/refresh.ts",
    what: "deviceBound: a forwarded cookie outlives its own deadline",
    find: "Math.min(binding.until, now + FORWARD_MS)",
    replace: "now + FORWARD_MS",
    tests: [DBSC],
  },
  {
    file: "_device_bound/mode.ts",
    what:
      "deviceBound: a request through a forwarded cookie gets that cookie again",
    find: "if (forwarded) return { ...saved, keepCookie: true };",
    replace: "",
    tests: [DBSC],
  },
  {
    file: "_device_bound/mode.ts",
    what: "deviceBound: a forwarded cookie regenerate()s into a new id",
    find: "if (forwarded && out.regenerated) {",
    replace: "if (false) {",
    tests: [DBSC],
  },
  {
    file: "_store_mode/mode.ts",
    what:
      "deviceBound: the id of a forwarded cookie is remembered as naming the moved session (it outlives the forward)",
    find: "    const { data: _, ...meta } = record;\n",
    replace:
      "    const { data: _, ...meta } = record;\n    this.#keys.set(token, key);\n",
    tests: [DBSC],
  },
  {
    file: "_device_bound/mode.ts",
    what:
      "deviceBound: a bound browser-session cookie outlives the browser's close",
    find: "readCookie(c, this.#options.cookies.existsWireName) === undefined",
    replace: "false",
    tests: [DBSC],
  },
  {
    file: "_device_bound/proof.ts",
    what:
      "deviceBound: zero octets in front of a small RSA modulus pass it off as a big one",
    find: "if (n[0] === 0 || e[0] === 0) {",
    replace: "if (false) {",
    tests: [DBSC_PROOF],
  },
  {
    file: "_device_bound/proof.ts",
    what: "deviceBound: an RSA exponent of 1 is taken",
    find: "(e.length === 1 && last < 3) ||",
    replace: "",
    tests: [DBSC_PROOF],
  },
  {
    file: "_device_bound/mode.ts",
    what:
      "deviceBound: renew() extends the identifier's entry only where it names the key as the session's own (not after a lost move)",
    find: "if (pointer === undefined || !namesKey(pointer, key)) return;",
    replace: "if (pointer?.session !== key) return;",
    tests: [DBSC],
  },
  {
    file: "_device_bound/options.ts",
    what: "deviceBound: a store without replace() is taken",
    find: 'if (typeof store.replace !== "function") {',
    replace: "if (false) {",
    tests: [DBSC_OPTIONS],
  },
];

/**
 * How long one mutant's tests may run (MUTATION_TIMEOUT, seconds). A
 * mutant that makes them run past it (a retry loop that never ends, a
 * test waiting on what the mutant broke) is counted as killed, as mutation
 * tools count timeouts: the suite noticed, it did not pass.
 */
const TIMEOUT_MS = Number(Deno.env.get("MUTATION_TIMEOUT") ?? 300) * 1000;

/** The process group of the tests running now, if any. */
let running: number | undefined;

/** Whether `tests` pass; "timeout" when they ran past {@linkcode TIMEOUT_MS}. */
async function runTests(tests: string[]): Promise<boolean | "timeout"> {
  // In a process group of its own (setsid), so that the servers a test
  // started (redis-server, PostgreSQL) go with it when it is stopped.
  const child = new Deno.Command("setsid", {
    args: [Deno.execPath(), "test", "--allow-all", "--no-check", ...tests],
    cwd: root,
    stdout: "null",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  running = child.pid;
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }, TIMEOUT_MS);
  const { success } = await child.status;
  running = undefined;
  clearTimeout(timer);
  return late ? "timeout" : success;
}

// Every mutant's code must still be there, checked before any test runs
// (a refactor that moved it would otherwise end a long run halfway).
const gone: string[] = [];
for (const m of MUTANTS) {
  const text = await Deno.readTextFile(new URL(m.file, root));
  if (!text.includes(m.find)) gone.push(`${m.file}: ${m.what}: ${m.find}`);
}
if (gone.length > 0) {
  console.error(`the code to mutate is gone:\n${gone.join("\n")}`);
  Deno.exit(1);
}

const redis = redisAvailable;
const results: { m: Mutant; killed: boolean | undefined }[] = [];
// MUTATION_ONLY="chunks|compression" runs the mutants of matching files.
const only = new RegExp(Deno.env.get("MUTATION_ONLY") ?? "");
for (const m of MUTANTS.filter((m) => only.test(m.file))) {
  if (m.redis && !redis) {
    results.push({ m, killed: undefined });
    console.log(`skip  ${m.file}: ${m.what} (no redis-server)`);
    continue;
  }
  const url = new URL(m.file, root);
  const original = await Deno.readTextFile(url);
  if (!original.includes(m.find)) {
    throw new Error(`${m.file}: the code to mutate is gone: ${m.find}`);
  }
  // Stopped halfway (Ctrl-C, a timeout around the run), the file is put
  // back before the process ends.
  const restore = () => {
    Deno.writeTextFileSync(url, original);
    try {
      if (running !== undefined) Deno.kill(-running, "SIGKILL");
    } catch {
      // Gone already.
    }
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", restore);
  Deno.addSignalListener("SIGTERM", restore);
  await Deno.writeTextFile(url, original.replace(m.find, m.replace));
  let passed: boolean | "timeout";
  try {
    passed = await runTests(m.tests);
  } finally {
    await Deno.writeTextFile(url, original);
    Deno.removeSignalListener("SIGINT", restore);
    Deno.removeSignalListener("SIGTERM", restore);
  }
  const killed = passed !== true;
  results.push({ m, killed });
  const mark = passed === "timeout" ? "time" : killed ? "kill" : "LIVE";
  console.log(`${mark}  ${m.file}: ${m.what}`);
}

// The baseline must be green, or every mutant counts as killed.
if (
  await runTests([
    ...new Set(
      MUTANTS.filter((m) => only.test(m.file)).map((m) => m.tests).flat(),
    ),
  ]) !== true
) {
  console.error("the guarding tests fail without any mutant: fix them first");
  Deno.exit(1);
}

const ran = results.filter((r) => r.killed !== undefined);
const killed = ran.filter((r) => r.killed).length;
const score = killed / ran.length;
console.log("");
console.log("| module | killed | survived |");
console.log("|---|---:|---:|");
for (const file of [...new Set(ran.map((r) => r.m.file))]) {
  const rows = ran.filter((r) => r.m.file === file);
  console.log(
    `| ${file} | ${rows.filter((r) => r.killed).length} | ${
      rows.filter((r) => !r.killed).length
    } |`,
  );
}
console.log("");
for (const r of ran.filter((r) => !r.killed)) {
  console.log(`survived: ${r.m.file}: ${r.m.what}`);
}
console.log(
  `mutation score: ${killed}/${ran.length} killed (${
    (score * 100).toFixed(1)
  }%)${
    results.length > ran.length
      ? `, ${results.length - ran.length} skipped`
      : ""
  }`,
);
if (score < 0.9) Deno.exit(1);
