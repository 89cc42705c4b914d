/**
 * The options of the session middleware.
 *
 * @module
 */
import type { Encoder } from "./encoder.ts";
import type { SessionCookieOptions } from "./session_cookie_options.ts";
import type { SessionStore } from "./session_store.ts";
import type { SessionEvent } from "./session_event.ts";
import type { DeviceBoundOptions } from "./session_device_bound_options.ts";
import type { Context } from "hono";

/**
 * Options for {@linkcode session}. Every one is optional; a mistake in them
 * throws when `session()` is called, not on the first request.
 *
 * @example
 * ```ts
 * import { session, type SessionOptions } from "@x/hono-session";
 *
 * const secret = Deno.env.get("SESSION_SECRET");
 * const options: SessionOptions = {
 *   // An explicit undefined secret is refused: pass it only when set.
 *   ...(secret ? { secret } : {}),
 *   maxAge: 7 * 24 * 60 * 60,
 *   cookieOptions: { sameSite: "Strict" },
 * };
 * session(options);
 * ```
 *
 * @example A cookie-mode session bigger than one cookie
 * ```ts
 * import { session } from "@x/hono-session";
 *
 * // Compressed when it would not fit one cookie; if it still does not,
 * // spread over up to three cookies: sid.0, sid.1, sid.2.
 * session({ compression: "deflate-raw", cookieChunks: true });
 * ```
 */
export interface SessionOptions {
  /**
   * Cookie mode: the key sessions are sealed with, at least 32 characters.
   * To rotate keys, give a list, newest first: seals are made with the
   * first, any listed key opens them, and a session sealed with an older
   * one is re-sealed with the newest at its next write. A key dropped from
   * the list ends the sessions sealed with it. Without a secret, each
   * `session()` call makes a random key, so sessions end whenever the
   * process restarts and are not shared between processes. Given but
   * `undefined`, `null` or blank (an unset environment variable), it is
   * refused rather than replaced by a random key. Leave it out in store
   * mode: it would do nothing there, so it is refused.
   */
  secret?: string | readonly string[] | undefined;
  /** Cookie mode: how the session becomes the cookie's value. Default: iron. */
  encoder?: Encoder | undefined;
  /**
   * Cookie mode: compresses a session too big for one cookie before sealing
   * it, with the standard `CompressionStream` in this format, and keeps the
   * result only when the cookie gets shorter. Smaller sessions are sealed
   * as they are (compressing costs tens of µs per write). A compressed
   * session may expand to at most 64 KiB of JSON: a bigger one fails the
   * save with a `RangeError`, and a cookie that would expand further is no
   * session. Sessions compressed earlier are read whatever this says, so
   * turning it off ends none. Not with a custom `encoder` (it can compress
   * itself) or a store. Off by default.
   */
  compression?: "deflate-raw" | "gzip" | undefined;
  /**
   * Cookie mode: lets a session too big for one cookie (4096 bytes with its
   * name) be spread over several, `sid.0`, `sid.1`, ... (the cookie's name,
   * a dot, a number): `true` for at most 3, or the most to use, from 2 to
   * 10. A session that fits one cookie keeps the plain name; one that needs
   * more than the maximum fails the save with a `RangeError`. Mind the
   * request-header limits between the browser and the app: Node and Bun
   * refuse more than 16 KiB of request headers by default, nginx and Apache
   * more than 8 KB in one header line (the whole Cookie header). Turning it
   * off ends the sessions that were spread over several cookies. Off by
   * default.
   */
  cookieChunks?: boolean | number | undefined;
  /**
   * Also reads the sessions of another session library, so that switching
   * to this one signs nobody out. The one accepted value,
   * `"hono-session@1"`, reads what `hono-session` 1.x (npm) wrote with the
   * same options: in cookie mode its cookies sealed with `secret` (each
   * secret of a list), in store mode its records in the same `store`. The
   * values, the deadline and pending flash values carry over; the session
   * moves to this package's format at its first save (a new cookie, or a
   * new id in the store with the old record deleted) and can never go back.
   * `onEvent` reports each such session (`legacy-session`), so you know
   * when the last one has moved and the option can go. Only requests that
   * carry a 1.x cookie pay anything for it. In cookie mode it needs the
   * secret 1.x was given (`session()` throws a `TypeError` without one). Off
   * by default.
   */
  migrateFrom?: "hono-session@1" | undefined;
  /**
   * Store mode: where sessions are kept; the cookie then holds only a
   * random id. Without a store, the middleware runs in cookie mode. `secret`
   * and `encoder` serve cookie mode only and are refused beside a store.
   */
  store?: SessionStore | undefined;
  /**
   * How long a session lasts, in seconds, from its creation (or its last
   * `renew()` / `regenerate()`). More than 0, at most 400 days. Default: one
   * day.
   */
  maxAge?: number | undefined;
  /**
   * Ends a session that has not been used for this many seconds; each
   * request that carries it pushes the deadline back (sliding expiry),
   * never past `maxAge` or `absoluteTimeout`. Off by default.
   */
  idleTimeout?: number | undefined;
  /**
   * With `idleTimeout`: a request that changes nothing writes the pushed-back
   * deadline only once this fraction of `idleTimeout` has passed since the
   * last write, so reads do not write on every request. The session may
   * then end up to that fraction of `idleTimeout` early. Above 0, at most
   * 0.5: with a larger fraction, a user whose requests come just over half
   * of `idleTimeout` apart never triggers that write and is signed out at
   * the idle timeout despite the activity. Default: 0.1.
   */
  touchFraction?: number | undefined;
  /**
   * Ends every session this many seconds after it was created (or
   * regenerated), whatever `renew()` and activity say. Off by default.
   */
  absoluteTimeout?: number | undefined;
  /**
   * Whether the cookies outlive the browser. `true` (the default): they
   * carry `Max-Age`, the session's remaining time. `false`:
   * browser-session cookies, which the browser drops when it closes. A
   * session can choose for itself, for example from a "remember me"
   * checkbox at sign-in: `c.session.regenerate({ persistent: true })`.
   * The server enforces `maxAge`, `idleTimeout` and `absoluteTimeout`
   * either way; only the cookies' own lifetime differs.
   */
  persistent?: boolean | undefined;
  /**
   * Receives events worth logging or counting: refused cookies, unknown
   * ids, expiries, a retiring secret still in use, conflicts, sessions
   * created, regenerated and signed out, the size of each cookie written.
   * Events carry no cookie value, id, user or session value. See
   * {@linkcode SessionEvent}; `@x/hono-session/otel` turns them into
   * OpenTelemetry metrics.
   */
  onEvent?: ((event: SessionEvent, c: Context) => void) | undefined;
  /** Name of the session cookie. Default: `sid`. */
  cookieName?: string | undefined;
  /**
   * Name of a second cookie, readable from JavaScript, whose value `1` tells
   * a front end that a session cookie was issued (one revoked or expired on
   * the server keeps it until its own Max-Age). Default: `sx`.
   */
  existsCookieName?: string | undefined;
  /**
   * Attributes of both cookies. Default: HttpOnly, Secure, `Path=/`,
   * `SameSite=Lax`.
   */
  cookieOptions?: SessionCookieOptions | undefined;
  /**
   * Attributes of the exists cookie, laid over `cookieOptions`. It is never
   * HttpOnly.
   */
  existsCookieOptions?: SessionCookieOptions | undefined;
  /**
   * Store mode: binds sessions to the device that signed in, in browsers
   * that speak Device Bound Session Credentials (W3C DBSC). A
   * `regenerate()` offers the browser to register a key for the session;
   * once it has, the session cookie lasts `lifetime` seconds (ten minutes
   * by default), the browser renews it by proving it holds the key, and
   * the server refuses a cookie whose key has not proved itself for longer
   * than that: a copied cookie stops working within `lifetime`. The
   * middleware answers the registration and refresh requests itself.
   * Browsers without DBSC keep an ordinary session. `true` for the
   * defaults, or {@linkcode DeviceBoundOptions}. Needs a store with
   * `replace()` (MemoryStore, DenoKvStore, RedisStore, SqlStore); refused
   * in cookie mode. Off by default.
   */
  deviceBound?: boolean | DeviceBoundOptions | undefined;
}
