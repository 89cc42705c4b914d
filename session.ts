/**
 * The type of `c.session`: the values a handler reads and writes, and the
 * few members of the session API.
 *
 * @module
 */

/**
 * Names that belong to the session's own API. A session value can never use
 * one of them as its key: assigning to one throws a `TypeError`.
 *
 * @example
 * ```ts
 * import type { SessionMember } from "@x/hono-session";
 *
 * const reserved: SessionMember = "flash";
 * ```
 */
export type SessionMember =
  | "renew"
  | "regenerate"
  | "flash"
  | "reflash"
  | "hasChanged"
  | "isNew";

/**
 * The type of one session value as JSON keeps it: `T` itself where `T` is
 * a string, number, boolean, `null`, a plain object or an array of those
 * (checked all the way down); where it is not, a string type saying why,
 * so that the value fails to type-check with that reason in the message.
 * `unknown` and `any` stay as they are, and so does `undefined` where it
 * means "absent" (an optional property); in an array, where JSON would
 * write `null`, it is refused.
 *
 * TypeScript compares shapes, not classes: an instance of a class with
 * only data fields passes here and is refused when saved (its prototype
 * is not a plain object's).
 *
 * @typeParam T The type of a value.
 * @typeParam Item `true` for an item of an array, where `undefined` would
 *   come back from JSON as `null`.
 *
 * @example
 * ```ts
 * import type { JsonSafe } from "@x/hono-session";
 *
 * const ok: JsonSafe<{ at: string; tags: string[] }> = { at: "2026-01-01", tags: [] };
 * const why: JsonSafe<Date> = "a Date is not JSON: store date.toISOString() or date.getTime()";
 * ```
 */
export type JsonSafe<T, Item extends boolean = false> = unknown extends T ? T
  : T extends string | number | boolean | null ? T
  : T extends undefined
    ? Item extends true
      ? "undefined in an array comes back from JSON as null: use null"
    : T
  : T extends
    | ((...args: never[]) => unknown)
    | (abstract new (...args: never[]) => unknown) ? "a function is not JSON"
  : T extends bigint ? "a bigint is not JSON: store it as a string"
  : T extends symbol ? "a symbol is not JSON"
  : T extends Date
    ? "a Date is not JSON: store date.toISOString() or date.getTime()"
  : T extends ReadonlyMap<unknown, unknown>
    ? "a Map is not JSON: store a plain object or an array of entries"
  : T extends ReadonlySet<unknown> ? "a Set is not JSON: store an array"
  : T extends PromiseLike<unknown> ? "a Promise is not JSON: await it first"
  : T extends readonly unknown[] ? { [K in keyof T]: JsonSafe<T[K], true> }
  : T extends object ? SessionValues<T>
  : "not JSON";

/**
 * `T` checked as session values: each property as {@linkcode JsonSafe}
 * keeps it, and a symbol key refused (JSON drops it). The generic of
 * {@linkcode session} must satisfy it, so a shape JSON would not keep
 * fails to type-check where it is written, with the reason in the
 * message. Optional properties, nested objects, arrays, unions with
 * `null` and interfaces (no index signature needed) all pass.
 *
 * @typeParam T The shape of the session's values.
 *
 * @example
 * ```ts
 * import { session, type SessionValues } from "@x/hono-session";
 *
 * interface Cart {
 *   items: { sku: string; quantity: number }[];
 *   coupon?: string | null;
 * }
 * const checked: SessionValues<Cart> = { items: [], coupon: null };
 * session<Cart>(); // fine
 * // @ts-expect-error a Date is not JSON
 * session<{ paidAt: Date }>();
 * ```
 */
export type SessionValues<T> = {
  [K in keyof T]: K extends symbol ? "a symbol key is not JSON"
    : JsonSafe<T[K]>;
};

/**
 * The session as handlers see it through `c.session` (also
 * `c.get("session")` and `c.var.session`): your own values as ordinary
 * properties, plus a handful of members to manage the session itself.
 *
 * Declare the shape of your values either per app, with the generic of
 * {@linkcode session}, or once for the whole program by augmenting this
 * interface after importing `@x/hono-session/global`.
 *
 * Values must be JSON: strings, finite numbers, booleans, null, plain
 * objects and arrays of those. Anything else (a `Date`, a `Map`, a `BigInt`,
 * a function, `undefined` inside an array) makes the save fail with a
 * `TypeError` naming the key, rather than being changed or dropped silently.
 * The types say so first: a shape given to {@linkcode session} is checked
 * with {@linkcode SessionValues}, and a value declared here (or by a
 * refining middleware's `Session` variable) that JSON would not keep reads
 * as the reason, so writing one fails to type-check.
 *
 * Assigning `null` (`c.session = null`, or `c.set("session", null)`) ends
 * the session: its store entry, if any, is deleted and both cookies are
 * expired (`Max-Age=0`).
 * Reading `c.session` afterwards in the same request gives a new, empty
 * session, saved only if you write to it.
 *
 * @example Reading, writing and signing out
 * ```ts
 * import { Hono } from "hono";
 * import { session } from "@x/hono-session";
 *
 * const app = new Hono()
 *   .use(session<{ userId?: string }>())
 *   .post("/login", (c) => {
 *     c.session.regenerate(); // a new id at sign-in
 *     c.session.userId = "u-42"; // write: saved after the handler
 *     return c.text("signed in");
 *   })
 *   .get("/me", (c) => {
 *     const userId = c.session.userId; // read (also c.get("session"), c.var.session)
 *     return userId ? c.text(userId) : c.text("Unauthorised", 401);
 *   })
 *   .post("/logout", (c) => {
 *     c.session = null; // sign out: both cookies expired, store entry deleted
 *     return c.text("signed out");
 *   })
 *   .post("/sign-out", (c) => {
 *     c.set("session", null); // the same as c.session = null
 *     return c.text("signed out");
 *   });
 * ```
 *
 * @example Declaring the session's shape for every handler
 * ```ts
 * import "@x/hono-session/global";
 *
 * declare module "@x/hono-session" {
 *   interface Session {
 *     userId?: string;
 *     cart?: string[];
 *   }
 * }
 * ```
 */
export interface Session {
  /**
   * Restarts the session's lifetime: it now ends `maxAge` seconds from now
   * (the middleware's `maxAge` when omitted), on the server and in the
   * cookie's `Max-Age`. The session is saved even if nothing else changed.
   *
   * @param maxAge Lifetime in seconds, more than 0 and at most 400 days.
   * @param options `persistent`: from now on, whether the cookies outlive
   *   the browser (see {@linkcode RenewOptions}).
   * @throws {RangeError} When `maxAge` is not in that range.
   * @throws {TypeError} When `options` has an unknown key or a wrong type.
   *
   * @example Keep a user signed in for 30 days
   * ```ts
   * import { Hono } from "hono";
   * import { session } from "@x/hono-session";
   *
   * new Hono().use(session()).post("/remember-me", (c) => {
   *   c.session.renew(30 * 24 * 60 * 60);
   *   return c.text("ok");
   * });
   * ```
   */
  renew(maxAge?: number, options?: RenewOptions): void;

  /**
   * Moves the session to a new id and restarts its lifetime, keeping its
   * values. In store mode the entry under the old id is deleted once the new
   * one is saved, so a cookie captured before the call no longer works. Call
   * it whenever the user's privileges change, above all at login, to defeat
   * session fixation. In cookie mode a fresh seal is issued; an old cookie
   * stays valid until it expires, as nothing on the server remembers it.
   *
   * At sign-in, `options` can also tie the session to its user (store
   * mode: so that `userSessions()` can list and revoke it) and
   * choose whether its cookies outlive the browser ("remember me"). Both
   * choices stay with the session until it ends.
   *
   * @param options See {@linkcode RegenerateOptions}.
   * @throws {TypeError} When `options` has an unknown key or a wrong type,
   *   or ties a user in cookie mode.
   *
   * @example
   * ```ts
   * import { Hono } from "hono";
   * import { session } from "@x/hono-session";
   *
   * new Hono().use(session({ store: new Map() })).post("/login", (c) => {
   *   c.session.regenerate();
   *   c.session.userId = "u-42";
   *   return c.text("ok");
   * });
   * ```
   *
   * @example Sign-in with "remember me", tied to the user
   * ```ts
   * import { Hono } from "hono";
   * import { session } from "@x/hono-session";
   * import { MemoryStore } from "@x/hono-session/stores/memory";
   *
   * new Hono()
   *   .use(session({ store: new MemoryStore(), persistent: false }))
   *   .post("/login", async (c) => {
   *     const form = await c.req.formData();
   *     // Checked: cookies that survive a browser restart; unchecked:
   *     // browser-session cookies. The server deadline holds either way.
   *     c.session.regenerate({
   *       user: "u-42",
   *       persistent: form.get("remember") === "on",
   *     });
   *     c.session.userId = "u-42";
   *     return c.text("ok");
   *   });
   * ```
   */
  regenerate(options?: RegenerateOptions): void;

  /**
   * Sets a value that lives for exactly one more request: it is readable
   * now and in the next request that carries the session, then it is
   * removed. Useful for a message shown after a redirect.
   *
   * @param key The value's key.
   * @param value The value, JSON like every session value.
   *
   * @example
   * ```ts
   * import { Hono } from "hono";
   * import { session } from "@x/hono-session";
   *
   * new Hono()
   *   .use(session<{ notice?: string }>())
   *   .post("/save", (c) => {
   *     c.session.flash("notice", "Saved.");
   *     return c.redirect("/");
   *   })
   *   .get("/", (c) => c.text(c.session.notice ?? ""));
   * ```
   */
  flash<K extends Exclude<keyof this, SessionMember> & string>(
    key: K,
    value: this[K],
  ): void;

  /**
   * Keeps the values flashed by the previous request for one more request,
   * for example across a second redirect.
   *
   * @example
   * ```ts
   * import { Hono } from "hono";
   * import { session } from "@x/hono-session";
   *
   * new Hono().use(session()).get("/step", (c) => {
   *   c.session.reflash();
   *   return c.redirect("/done");
   * });
   * ```
   */
  reflash(): void;

  /**
   * Whether the values differ from what was loaded at the start of the
   * request.
   *
   * @example
   * ```ts
   * import { Hono } from "hono";
   * import { session } from "@x/hono-session";
   *
   * new Hono().use(session()).get("/", (c) => c.text(String(c.session.hasChanged)));
   * ```
   */
  readonly hasChanged: boolean;

  /**
   * Whether this session was started by this request and has not been saved
   * yet.
   *
   * @example
   * ```ts
   * import { Hono } from "hono";
   * import { session } from "@x/hono-session";
   *
   * new Hono().use(session()).get("/", (c) => c.text(c.session.isNew ? "hello" : "welcome back"));
   * ```
   */
  readonly isNew: boolean;
}

/**
 * What `c.session.renew(maxAge, options)` can change besides the lifetime.
 *
 * @example Turn "remember me" on for a signed-in session
 * ```ts
 * import { Hono } from "hono";
 * import { session, type RenewOptions } from "@x/hono-session";
 *
 * const remember: RenewOptions = { persistent: true };
 * new Hono().use(session()).post("/remember", (c) => {
 *   c.session.renew(30 * 24 * 60 * 60, remember);
 *   return c.text("ok");
 * });
 * ```
 */
export interface RenewOptions {
  /**
   * `true`: the cookies carry `Max-Age` and outlive the browser. `false`:
   * browser-session cookies, dropped when the browser closes (the server
   * deadline is enforced either way). Kept for the rest of the session.
   * Left out: unchanged (at first, the middleware's `persistent` option).
   */
  persistent?: boolean | undefined;
}

/**
 * What `c.session.regenerate(options)` can set for the new session.
 *
 * @example
 * ```ts
 * import type { RegenerateOptions } from "@x/hono-session";
 *
 * const signIn: RegenerateOptions = { user: "u-42", persistent: false };
 * ```
 */
export interface RegenerateOptions extends RenewOptions {
  /**
   * Store mode: ties the session to this user id (1 to 512 characters of
   * well-formed text without NUL, so every store keeps it exactly),
   * so that `userSessions()` can list it and revoke it ("sign out
   * everywhere"). Kept for the rest of the session. Left out: the tie, if
   * any, is kept. Cookie mode keeps nothing on the server to list, so a
   * user there is refused with a `TypeError`.
   */
  user?: string | undefined;
}
