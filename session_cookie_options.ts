/**
 * The cookie attributes the middleware accepts.
 *
 * @module
 */

/**
 * Attributes for the session cookie and the exists cookie. They are handed
 * to Hono's cookie helper. `Max-Age` is not among them: it always follows
 * the session's own lifetime (the `maxAge` option and `renew()`).
 *
 * @example Share the exists cookie with a front end on the parent domain
 * ```ts
 * import { session } from "@x/hono-session";
 *
 * session({
 *   cookieOptions: { sameSite: "Strict" },
 *   existsCookieOptions: { domain: "example.com" },
 * });
 * ```
 */
export interface SessionCookieOptions {
  /** `Domain`: hosts that receive the cookie. Unset by default (this host only). */
  domain?: string | undefined;

  /** `Path`: default `/`. */
  path?: string | undefined;
  /** `Secure`: default `true`. */
  secure?: boolean | undefined;
  /**
   * `HttpOnly`: default `true` for the session cookie. The exists cookie is
   * never HttpOnly, whatever this says.
   */
  httpOnly?: boolean | undefined;
  /** `SameSite`: default `Lax`. */
  sameSite?: "Strict" | "Lax" | "None" | "strict" | "lax" | "none" | undefined;
  /** `Partitioned` (CHIPS); needs `secure`. */
  partitioned?: boolean | undefined;
  /** `Priority`. */
  priority?: "Low" | "Medium" | "High" | "low" | "medium" | "high" | undefined;
  /**
   * Adds the `__Host-` or `__Secure-` prefix to the cookie's name; the
   * cookie is read back under the same prefixed name.
   */
  prefix?: "host" | "secure" | undefined;
}
