/**
 * The session middleware.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { Session, SessionValues } from "./session.ts";
import type { SessionOptions } from "./session_options.ts";
import { resolveOptions } from "./_core/options.ts";
import type { Mode } from "./_core/mode.ts";
import {
  currentRequest,
  installAccessor,
  RequestSession,
} from "./_core/request.ts";
import { CookieMode } from "./_cookie_mode/mode.ts";
import { StoreMode } from "./_store_mode/mode.ts";
import { DeviceBound } from "./_device_bound/device_bound.ts";
import { resolveDeviceBound } from "./_device_bound/options.ts";

/**
 * Creates the session middleware. Handlers after it read and write
 * `c.session` (also `c.get("session")` and `c.var.session`); the session is
 * saved once the handler has answered, and only if it changed.
 *
 * Without a `store` the session is sealed into the cookie itself (cookie
 * mode); with one, the cookie holds a random id and the values stay in the
 * store (store mode). Nothing is saved when the handler throws or answers
 * with a 5xx status.
 *
 * Two session() middlewares on one request each keep their own session and
 * cookies (their cookie names must differ); `c.session` is the inner one.
 *
 * @typeParam T The shape of your session values, for example
 *   `{ userId?: string }`. Defaults to any string keys with unknown values.
 *   Values must be JSON ({@linkcode SessionValues}): a shape holding a
 *   `Date`, a `Map`, a function, ... fails to type-check here, saying why.
 * @param options See {@linkcode SessionOptions}; all are optional.
 * @returns The middleware, to pass to `app.use()`.
 * @throws {TypeError | RangeError} When an option is wrong: an unknown
 *   option, a secret shorter than 32 characters (or given but unset), a
 *   `maxAge` that is not above 0 and at most 400 days, a `__Host-` cookie
 *   without `secure` and `path: "/"`, a store without `get`, `set` and
 *   `delete`, and so on. The message says what to change.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { session } from "@x/hono-session";
 *
 * const app = new Hono()
 *   .use(session<{ visits?: number }>())
 *   .get("/", (c) => {
 *     c.session.visits = (c.session.visits ?? 0) + 1;
 *     return c.text(`visit number ${c.session.visits}`);
 *   });
 * ```
 */
export function session<
  T extends object & SessionValues<T> = Record<string, unknown>,
>(
  options?: SessionOptions,
): MiddlewareHandler<{ Variables: { session: Session & T } }> {
  const resolved = resolveOptions(options);
  // Checked against the options above: it needs their store and cookie.
  const deviceBound = resolveDeviceBound(options?.deviceBound, resolved);
  const store = resolved.store;
  const storeMode = store && new StoreMode(resolved, store);
  // Device binding (store mode only) wraps the store mode, and answers
  // its own registration and refresh requests.
  const bound = storeMode && deviceBound &&
    new DeviceBound(resolved, deviceBound, store, storeMode);
  const mode: Mode<unknown> = (bound ? bound.mode : storeMode ??
    new CookieMode(resolved)) as Mode<unknown>;
  return async function sessionMiddleware(c, next): Promise<Response | void> {
    installAccessor(c);
    const outer = currentRequest(c);
    // The same middleware mounted twice on one route: the first one serves.
    if (outer?.uses(resolved)) return await next();
    if (bound) {
      const answer = await bound.answer(c);
      if (answer !== undefined) return answer;
    }
    // Inside another session() middleware: c.session is ours until we are
    // done, then the outer one's again.
    const outerSession: unknown = outer && c.get("session");
    const request = new RequestSession(resolved, mode, c, outer);
    await request.load();
    try {
      await next();
      if (c.error || c.res.status >= 500) return;
      await request.save();
    } finally {
      outer?.restore(outerSession);
    }
  };
}
