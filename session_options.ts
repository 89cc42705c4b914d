/**
 * The options of the session middleware.
 *
 * @module
 */
import type { Encoder } from "./encoder.ts";
import type { SessionCookieOptions } from "./session_cookie_options.ts";
import type { SessionStore } from "./session_store.ts";

/**
 * Options for {@linkcode session}. Every one is optional; a mistake in them
 * throws when `session()` is called, not on the first request.
 *
 * @example
 * ```ts
 * import { session, type SessionOptions } from "@x/hono-session";
 *
 * const options: SessionOptions = {
 *   secret: Deno.env.get("SESSION_SECRET"),
 *   maxAge: 7 * 24 * 60 * 60,
 *   cookieOptions: { sameSite: "Strict" },
 * };
 * session(options);
 * ```
 */
export interface SessionOptions {
  /**
   * Cookie mode: the key the session is sealed with, at least 32
   * characters. Without one, each `session()` call makes a random key, so
   * sessions end whenever the process restarts and are not shared between
   * processes. Not used in store mode.
   */
  secret?: string;
  /** Cookie mode: how the session becomes the cookie's value. Default: iron. */
  encoder?: Encoder;
  /**
   * Store mode: where sessions are kept; the cookie then holds only a
   * random id. Without a store, the middleware runs in cookie mode.
   */
  store?: SessionStore;
  /**
   * How long a session lasts, in seconds, from its creation (or its last
   * `renew()` / `regenerate()`). More than 0, at most 400 days. Default: one
   * day.
   */
  maxAge?: number;
  /** Name of the session cookie. Default: `sid`. */
  cookieName?: string;
  /**
   * Name of a second cookie, readable from JavaScript, whose value `1` tells
   * a front end that a session exists. Default: `sx`.
   */
  existsCookieName?: string;
  /**
   * Attributes of both cookies. Default: HttpOnly, Secure, `Path=/`,
   * `SameSite=Lax`.
   */
  cookieOptions?: SessionCookieOptions;
  /**
   * Attributes of the exists cookie, laid over `cookieOptions`. It is never
   * HttpOnly.
   */
  existsCookieOptions?: SessionCookieOptions;
}
