// What hono-session 1.x (npm) wrote, read for `migrateFrom:
// "hono-session@1"`. 1.x kept a session as one flat object: the app's
// values side by side with two names of its own, `_expires` (the deadline,
// ms since the epoch, set at creation or renew() and never moved by a
// write) and `_flashKeys` (the keys the previous request flashed: served to
// this request, then dropped). It sealed that object into the cookie with
// iron and the raw secret, or gave it to the store under the cookie's value,
// a `crypto.randomUUID()`. This turns one into what our modes load, so the
// session is served as 1.x would have served it and saved in our format.
import type { SessionRecord } from "../session_store.ts";
import type { SessionMeta } from "../_core/lifetime.ts";
import { MAX_AGE_LIMIT, type ResolvedOptions } from "../_core/options.ts";

/** The lifetime settings a 1.x session is served under. */
type Settings = Pick<
  ResolvedOptions,
  "maxAge" | "idleMs" | "touchMs" | "absoluteMs"
>;

/** The `migrateFrom` value, and the `from` of its events. */
export const V1 = "hono-session@1";

// What crypto.randomUUID() makes (version 4, RFC 9562 variant), the only
// ids 1.x drew. 1.x also adopted whatever id a client sent (session
// fixation); such ids are not read.
const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Whether a cookie value has the shape of a 1.x store-mode id. */
export function isV1Id(value: string): boolean {
  return value.length === 36 && UUID.test(value);
}

/** A 1.x session, read and checked; what does not depend on the time. */
export interface V1Session {
  /** The values as JSON, without 1.x's own names. */
  json: string;
  /** `json` parsed, read by requests but never written. */
  parsed: Record<string, unknown>;
  /**
   * 1.x's `_expires`; undefined when it had none. 1.x given a `maxAge`
   * that is not a number wrote NaN (JSON: null) and compared nothing: such
   * a session never ended, each request got a deadline `maxAge` from now.
   * Read so from a store; a cookie without one is refused
   * ({@linkcode readV1Cookie}).
   */
  expires: number | undefined;
  /** 1.x's `_flashKeys` that hold a value: served now, then dropped. */
  flash: readonly string[];
}

/**
 * Reads what 1.x kept for one session (a parsed seal, or what its store
 * returned), or returns undefined when it is not a 1.x session: not a
 * plain object, an `_expires` that is not a number (or absent, or null),
 * `_flashKeys` not a list of names, or
 * values JSON cannot write (possible only with a store that keeps objects,
 * such as a `Map`; 1.x's cookies and database stores held JSON already).
 * JSON turns the rest into what a database store of 1.x would have given
 * back (a `Date` into its ISO text).
 */
export function readV1(value: unknown): V1Session | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return undefined;
  }
  try {
    const flat = value as Record<string, unknown>;
    const expires = flat._expires ?? NaN;
    if (typeof expires !== "number") return undefined;
    const keys = flat._flashKeys ?? [];
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) {
      return undefined;
    }
    // No prototype: a value named __proto__ stays a value.
    const values: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(flat)) {
      if (key !== "_expires" && key !== "_flashKeys") values[key] = flat[key];
    }
    const json = JSON.stringify(values);
    const parsed = JSON.parse(json) as Record<string, unknown>;
    const flash = [...new Set(keys as string[])].filter((k) =>
      Object.hasOwn(parsed, k)
    );
    return {
      json,
      parsed,
      expires: Number.isFinite(expires) ? expires : undefined,
      flash,
    };
  } catch {
    // A getter that throws, a cycle, a BigInt, nesting too deep for JSON.
    return undefined;
  }
}

/**
 * Reads what a 1.x cookie held (see {@linkcode readV1}), taking only a
 * session with a deadline. The secret is not bound to a purpose in 1.x's
 * seals, so anything else sealed with iron and the same secret (another
 * library's cookie, a token of the app's own) opens too; a deadline in
 * `_expires` is all that tells a 1.x session from those. The 1.x cookies
 * without one (1.x given a `maxAge` that was not a number) were
 * browser-session cookies that never ended: not read.
 */
export function readV1Cookie(value: unknown): V1Session | undefined {
  const session = readV1(value);
  return session?.expires === undefined ? undefined : session;
}

/**
 * The bookkeeping of a 1.x session at `now`. The deadline is 1.x's, never
 * later (at most 400 days away, the longest a cookie lives); without one,
 * `maxAge` from now, as 1.x did. 1.x kept no creation time nor last
 * activity: for `absoluteTimeout` the session counts as created `maxAge`
 * before its deadline (exact when 1.x had the same `maxAge` and no
 * `renew()`), and with `idleTimeout` this request is its last activity: its
 * idle deadline is dated one write-back interval (`touchFraction`) early,
 * so that this request writes the activity back and the session moves.
 * Otherwise each read would open a fresh idle window, and a 1.x session
 * only ever read would never idle out.
 */
export function v1Meta(
  session: V1Session,
  settings: Settings,
  now: number,
): SessionMeta {
  const maxAge = settings.maxAge * 1000;
  const v1Deadline = Math.min(
    session.expires ?? now + maxAge,
    now + MAX_AGE_LIMIT * 1000,
  );
  const created = Math.min(now, v1Deadline - maxAge);
  const deadline = Math.min(v1Deadline, created + settings.absoluteMs);
  const idle = settings.idleMs === Infinity
    ? Infinity
    : now + settings.idleMs - settings.touchMs;
  const expires = Math.min(deadline, idle);
  const meta: SessionMeta = { expires, created };
  if (expires !== deadline) meta.limit = deadline;
  if (session.flash.length > 0) meta.flash = [...session.flash];
  return meta;
}

/** A 1.x session as one of our records, or undefined if it is none. */
export function v1Record(
  value: unknown,
  settings: Settings,
  now: number,
): SessionRecord | undefined {
  const session = readV1(value);
  return session && { data: session.parsed, ...v1Meta(session, settings, now) };
}
