/**
 * Session middleware for [Hono](https://hono.dev).
 *
 * Add `session()` to an app and every handler gets `c.session`: a plain
 * object you read and write, saved at the end of the request only when it
 * changed. The data either travels sealed inside the cookie (cookie mode,
 * the default) or stays on the server in a store while the cookie carries a
 * random id (store mode).
 *
 * @example Cookie mode with a typed session
 * ```ts
 * import { Hono } from "hono";
 * import { session } from "@x/hono-session";
 *
 * // In production, a secret of 32 characters or more; unset (left out), a
 * // random one per process.
 * const secret = Deno.env.get("SESSION_SECRET");
 * const app = new Hono()
 *   .use(session<{ userId?: string }>(secret ? { secret } : {}))
 *   .post("/login", (c) => {
 *     c.session.regenerate();
 *     c.session.userId = "u-42";
 *     return c.text("welcome");
 *   })
 *   .post("/logout", (c) => {
 *     c.session = null;
 *     return c.text("bye");
 *   })
 *   .get("/me", (c) =>
 *     c.session.userId ? c.text(c.session.userId) : c.text("Unauthorised", 401)
 *   );
 * ```
 *
 * @example Store mode with a plain Map
 * ```ts
 * import { Hono } from "hono";
 * import session from "@x/hono-session";
 *
 * const app = new Hono().use(session({ store: new Map() }));
 * ```
 *
 * @module
 */
/// <reference types="./_hono_context.d.ts" preserve="true" />

export { session, session as default } from "./middleware.ts";
export type {
  JsonSafe,
  RegenerateOptions,
  RenewOptions,
  Session,
  SessionMember,
  SessionValues,
} from "./session.ts";
export type { SessionOptions } from "./session_options.ts";
export type { SessionCookieOptions } from "./session_cookie_options.ts";
export type { DeviceBoundOptions } from "./session_device_bound_options.ts";
export type {
  SessionRecord,
  SessionStore,
  StoredSession,
  UserSessionEntry,
} from "./session_store.ts";
export {
  type UserSession,
  type UserSessions,
  userSessions,
  type UserSessionsOptions,
} from "./user_sessions.ts";
export type { Encoder } from "./encoder.ts";
export type { SessionEvent } from "./session_event.ts";
export { SessionConflictError } from "./session_conflict_error.ts";
