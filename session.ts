/**
 * The session middleware.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Session } from "./mod.ts";
import type { SessionOptions } from "./session_options.ts";
import type { SessionRecord } from "./session_store.ts";
import { type ResolvedOptions, resolveOptions } from "./_options.ts";
import { clearCookies, readCookie, writeCookies } from "./_cookie.ts";
import { isToken, randomToken } from "./_random.ts";
import { isRecord, SessionState, stateOf } from "./_session_state.ts";

// Where a request's session lives among the context's variables. Shared by
// every copy of this module, since they share one Context prototype.
const REQUEST = Symbol.for("@x/hono-session/request");

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
 * @typeParam T The shape of your session values, for example
 *   `{ userId?: string }`. Defaults to any string keys with unknown values.
 * @param options See {@linkcode SessionOptions}; all are optional.
 * @returns The middleware, to pass to `app.use()`.
 * @throws {TypeError | RangeError} When an option is wrong: a secret shorter
 *   than 32 characters, a `maxAge` that is not above 0 and at most 400 days,
 *   a `__Host-` cookie without `secure` and `path: "/"`, a store without
 *   `get`, `set` and `delete`, and so on. The message says what to change.
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
export function session<T extends object = Record<string, unknown>>(
  options?: SessionOptions,
): MiddlewareHandler<{ Variables: { session: Session & T } }> {
  const resolved = resolveOptions(options);
  return async function sessionMiddleware(c, next): Promise<void> {
    installAccessor(c);
    const request = new RequestSession(resolved, c);
    await request.load();
    await next();
    if (c.error || c.res.status >= 500) return;
    await request.save();
  };
}

function installAccessor(c: Context): void {
  const proto = Object.getPrototypeOf(c);
  if (Object.hasOwn(proto, "session")) return;
  Object.defineProperty(proto, "session", {
    configurable: true,
    get(this: Context): Session {
      return requestOf(this).current();
    },
    set(this: Context, value: unknown): void {
      requestOf(this).assign(value);
    },
  });
}

function requestOf(c: Context): RequestSession {
  const request = c.get(REQUEST as never) as RequestSession | undefined;
  if (!request) {
    throw new TypeError(
      "c.session is only available to handlers that run after the session() middleware",
    );
  }
  return request;
}

// The session's life within one request: loaded before the handler, saved
// (or ended) after it.
class RequestSession {
  readonly #options: ResolvedOptions;
  readonly #c: Context;
  #state!: SessionState;
  /** Store mode: the id the loaded session is saved under. */
  #loadedId: string | undefined;
  /** The request carried a session cookie, valid or not. */
  #sentCookie = false;
  /** The session the request came with was ended (`c.session = null`). */
  #ended = false;

  constructor(options: ResolvedOptions, c: Context) {
    this.#options = options;
    this.#c = c;
  }

  async load(): Promise<void> {
    const c = this.#c;
    const options = this.#options;
    const value = readCookie(c, options.wireName);
    let record: SessionRecord | undefined;
    if (value !== undefined) {
      this.#sentCookie = true;
      record = options.store
        ? await this.#fromStore(value)
        : await this.#fromCookie(value);
    }
    this.#state = this.#stateFor(record);
    c.set(REQUEST as never, this as never);
    c.set("session", this.#state.proxy as never);
  }

  async #fromStore(id: string): Promise<SessionRecord | undefined> {
    // A value that is not one of our ids never reaches the store.
    if (!isToken(id)) return undefined;
    const store = this.#options.store!;
    const record = await store.get(id, this.#c);
    if (!isRecord(record)) return undefined;
    if (record.expires <= Date.now()) {
      await store.delete(id, this.#c);
      return undefined;
    }
    this.#loadedId = id;
    return record;
  }

  async #fromCookie(value: string): Promise<SessionRecord | undefined> {
    let record: unknown;
    try {
      record = await this.#options.encoder.decode(value, this.#options.secret);
    } catch {
      return undefined;
    }
    return isRecord(record) && record.expires > Date.now() ? record : undefined;
  }

  #stateFor(record: SessionRecord | undefined): SessionState {
    if (record) {
      try {
        return new SessionState(this.#options, record);
      } catch {
        // Values that are not JSON (a store returning odd data): no session.
        this.#loadedId = undefined;
      }
    }
    return new SessionState(this.#options);
  }

  /** What `c.session` reads: the session proxy, after any replacement. */
  current(): Session {
    const value = this.#c.get("session");
    if (value === this.#state.proxy) return value as Session;
    return this.#adopt(value).proxy;
  }

  /** What `c.session = value` does. */
  assign(value: unknown): void {
    if (value === null || value === undefined) {
      this.#c.set("session", null);
      return;
    }
    const state = this.#adopt(this.#c.get("session"));
    if (stateOf(value) !== state) state.replace(value);
  }

  // Brings the session variable back to a proxy of ours, whatever the app
  // put in it: null starts a new, empty session; an object replaces the
  // values.
  #adopt(value: unknown): SessionState {
    if (value === null || value === undefined) {
      this.#ended = true;
      this.#state = new SessionState(this.#options);
    } else if (stateOf(value) !== this.#state) {
      this.#state.replace(value);
    }
    this.#c.set("session", this.#state.proxy as never);
    return this.#state;
  }

  async save(): Promise<void> {
    const c = this.#c;
    const options = this.#options;
    const value = c.get("session");
    if (value === null || value === undefined) {
      this.#ended = true;
      return await this.#end();
    }
    const state = this.#adopt(value);
    const { json, flash } = state.finish();
    const changed = state.forced || json !== state.initial ||
      !sameKeys(flash, state.loadedFlash);
    if (!changed || (state.isNew && json === "{}" && !state.forced)) {
      if (this.#ended) await this.#end();
      return;
    }
    const seconds = Math.max(1, Math.ceil((state.expires - Date.now()) / 1000));
    if (options.store) {
      const record: SessionRecord = {
        data: JSON.parse(json),
        expires: state.expires,
      };
      if (flash.length > 0) record.flash = flash;
      const keep = this.#loadedId !== undefined && !state.isNew &&
        !state.regenerated;
      const id = keep ? this.#loadedId! : randomToken();
      await options.store.set(id, record, c);
      if (this.#loadedId !== undefined && id !== this.#loadedId) {
        await options.store.delete(this.#loadedId, c);
      }
      writeCookies(c, options, id, seconds);
    } else {
      const record: SessionRecord = {
        data: state.data,
        expires: state.expires,
      };
      if (flash.length > 0) record.flash = flash;
      const sealed = await options.encoder.encode(record, options.secret);
      if (typeof sealed !== "string" || sealed.length === 0) {
        throw new TypeError(
          "session encoder.encode() must return a non-empty string",
        );
      }
      writeCookies(c, options, sealed, seconds);
    }
  }

  // The session is over: forget it on the server and in the browser.
  async #end(): Promise<void> {
    if (this.#loadedId !== undefined) {
      await this.#options.store!.delete(this.#loadedId, this.#c);
    }
    if (
      this.#sentCookie ||
      readCookie(this.#c, this.#options.existsWireName) !== undefined
    ) {
      clearCookies(this.#c, this.#options);
    }
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((key, i) => key === b[i]);
}
