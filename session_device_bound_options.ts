/**
 * The options of device-bound sessions (`session({ store, deviceBound })`).
 *
 * @module
 */

/**
 * How device-bound sessions work: the `deviceBound` option of
 * {@linkcode session}, given as an object (`true` takes every default).
 * Each is optional; a mistake throws when `session()` is called.
 *
 * A browser that speaks Device Bound Session Credentials (W3C DBSC) keeps
 * a private key for the session and proves it holds it every `lifetime`
 * seconds; the session cookie then lasts only that long, and a copy of it
 * stops working once that time has passed since the last proof.
 *
 * @example Short-lived cookies, paths of your own
 * ```ts
 * import { session, type DeviceBoundOptions } from "@x/hono-session";
 * import { MemoryStore } from "@x/hono-session/stores/memory";
 *
 * const deviceBound: DeviceBoundOptions = {
 *   lifetime: 5 * 60,
 *   registrationPath: "/auth/dbsc/register",
 *   refreshPath: "/auth/dbsc/refresh",
 * };
 * session({ store: new MemoryStore(), deviceBound });
 * ```
 */
export interface DeviceBoundOptions {
  /**
   * Seconds the session cookie is accepted after the browser last proved
   * it holds the key. The cookie carries this `Max-Age`, and the server
   * refuses it once this time has passed, whatever the cookie says. The
   * browser refreshes it when a request finds it expired, and Chromium
   * also early, when a request finds less than two minutes left: a
   * lifetime of two minutes or less refreshes on nearly every request,
   * and Chrome's signature quota (six in nine minutes per site) then
   * makes it skip refreshes, its requests going without the cookie. Keep
   * it at five minutes or more outside tests. More than 0. Default: 600
   * (ten minutes).
   */
  lifetime?: number | undefined;
  /**
   * Seconds a challenge may be answered: a registration right after
   * sign-in, or a refresh right after its 403. Each is answered once.
   * More than 0, at most 3600. Default: 60.
   */
  challengeTimeout?: number | undefined;
  /**
   * The path the middleware answers registrations on (a POST from the
   * browser). It must be within the session cookie's `path`, so the
   * cookie reaches it. Default: `/__dbsc/<cookie name>/register` under the
   * cookie's path.
   */
  registrationPath?: string | undefined;
  /**
   * The path the middleware answers refreshes on (a POST from the
   * browser). Within the session cookie's `path`. Default:
   * `/__dbsc/<cookie name>/refresh` under the cookie's path.
   */
  refreshPath?: string | undefined;
  /**
   * The signature algorithms offered, in order of preference: `"ES256"`
   * (what browsers use), `"RS256"`. Default: both.
   */
  algorithms?: readonly ("ES256" | "RS256")[] | undefined;
}
