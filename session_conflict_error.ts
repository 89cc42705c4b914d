/**
 * The error a store throws when a session changed under a request.
 *
 * @module
 */
import { HTTPException } from "hono/http-exception";

/**
 * Thrown when a session cannot be saved because another request changed
 * or ended it after this request loaded it: a concurrent sign-out,
 * `regenerate()`, or a write to the same value. It is an `HTTPException`
 * with status 409, so unless the app handles it, the client gets
 * `409 Conflict` and nothing is saved.
 *
 * A store that supports conflict detection throws it from `set` when the
 * entry is no longer the one its `get` returned in the same request (the
 * stores of this package do). The middleware then reloads the session and
 * merges: keys changed by only one of the two requests keep that change,
 * and the write is tried again. Only when both requests changed the same
 * key differently, or the session was ended, does this error reach the app.
 *
 * @example Answer a conflict with a retry hint
 * ```ts
 * import { Hono } from "hono";
 * import { session, SessionConflictError } from "@x/hono-session";
 *
 * const app = new Hono().use(session({ store: new Map() }));
 * app.onError((err, c) =>
 *   err instanceof SessionConflictError
 *     ? c.text("Your session changed in another tab; please try again.", 409)
 *     : c.text("Internal Server Error", 500)
 * );
 * ```
 */
export class SessionConflictError extends HTTPException {
  /**
   * Creates the error, with status 409.
   *
   * @param message What went wrong, for logs; never a session id or value.
   */
  constructor(message = "the session was changed or ended by another request") {
    super(409, { message });
    this.name = "SessionConflictError";
  }
}
