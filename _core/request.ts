// The session's life within one request, the same in both modes: read the
// cookie and load through the mode before the handler; after it, save
// through the mode and write the cookies, or end the session and clear
// them. Also what makes `c.session` work, and how two session()
// middlewares on one request keep apart.
import type { Context } from "hono";
import type { Session } from "../session.ts";
import type { ResolvedOptions } from "./options.ts";
import type { Loaded, Mode } from "./mode.ts";
import { readCookie } from "../_http/cookies.ts";
import { expiredReason } from "./lifetime.ts";
import { SessionState, stateOf } from "./state.ts";

// Where a request's session lives among the context's variables. Shared by
// every copy of this module, since they share one Context prototype.
const REQUEST = Symbol.for("@x/hono-session/request");

/** The request session that `c.session` reads, if a middleware set one. */
export function currentRequest(c: Context): RequestSession | undefined {
  return c.get(REQUEST as never) as RequestSession | undefined;
}

/** Makes `c.session` (get and set) work on every context. */
export function installAccessor(c: Context): void {
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
  const request = currentRequest(c);
  if (!request) {
    throw new TypeError(
      "c.session is only available to handlers that run after the session() middleware",
    );
  }
  return request;
}

/** One session during one request, loaded and saved through `mode`. */
export class RequestSession<H = unknown> {
  readonly #options: ResolvedOptions;
  readonly #mode: Mode<H>;
  readonly #c: Context;
  /** The session of an enclosing session() middleware, if any. */
  readonly #outer: RequestSession | undefined;
  #state!: SessionState;
  /** The session the request came with, if any was valid and alive. */
  #loaded: Loaded<H> | undefined;
  /**
   * The session cookie's value the request came with, valid or not (joined
   * from its chunks when it came in several).
   */
  #cookieValue: string | undefined;
  /** Which of the session cookie's names it came with (cookieChunks). */
  #carried = 0;
  /** The session the request came with was ended (`c.session = null`). */
  #ended = false;

  /**
   * @param outer The session of an enclosing session() middleware on the
   *   same request, if any: their cookie names must differ from ours.
   * @throws {TypeError} When an enclosing session() middleware uses one of
   *   our cookie names.
   */
  constructor(
    options: ResolvedOptions,
    mode: Mode<H>,
    c: Context,
    outer?: RequestSession,
  ) {
    this.#options = options;
    this.#mode = mode;
    this.#c = c;
    const mine = options.cookies;
    for (let o = outer; o; o = o.#outer) {
      const theirs = o.#options.cookies;
      // The same name, or (with cookieChunks) a name one of the other's
      // chunks would have.
      const clash = [mine.wireName, mine.existsWireName].find((n) =>
        theirs.uses(n)
      ) ??
        [theirs.wireName, theirs.existsWireName].find((n) => mine.uses(n));
      if (clash === undefined) continue;
      throw new TypeError(
        `two session() middlewares run on this request and both use the cookie "${clash}" (outer: cookieName "${theirs.wireName}", existsCookieName "${theirs.existsWireName}"; inner: cookieName "${mine.wireName}", existsCookieName "${mine.existsWireName}"); give each its own cookieName and existsCookieName`,
      );
    }
    this.#outer = outer;
  }

  /**
   * Whether this session comes from the middleware with `options`, here or
   * in an enclosing one.
   */
  uses(options: ResolvedOptions): boolean {
    return this.#options === options || (this.#outer?.uses(options) ?? false);
  }

  /** Before the handler: finds the session the request came with. */
  async load(): Promise<void> {
    const c = this.#c;
    const options = this.#options;
    // The refusal callback only when someone listens: no closure per
    // request otherwise.
    const onEvent = options.onEvent;
    const { value, names } = options.cookies.read(
      c,
      onEvent && ((reason) => onEvent({ type: "invalid-cookie", reason }, c)),
    );
    this.#carried = names;
    if (value !== undefined) {
      this.#cookieValue = value;
      const loaded = await this.#mode.load(value, c);
      // The deadlines are checked on every request, in both modes.
      const expired = loaded && expiredReason(loaded.meta, options, Date.now());
      if (loaded && expired) {
        onEvent?.({ type: "expired", reason: expired }, c);
        await this.#mode.end(loaded, c);
      } else {
        this.#loaded = loaded;
      }
    }
    this.#state = new SessionState(options, this.#loaded);
    c.set(REQUEST as never, this as never);
    c.set("session", this.#state.proxy as never);
  }

  /**
   * The store keys of this request's sessions, in this middleware and the
   * enclosing ones (store mode; not a new session, nor one signed out).
   * Store objects are not compared: two objects on one database share keys.
   */
  storeKeys(): Set<string> {
    const keys = this.#outer?.storeKeys() ?? new Set<string>();
    const loaded = this.#loaded;
    if (loaded !== undefined && !this.#ended && this.#mode.keyOf) {
      keys.add(this.#mode.keyOf(loaded));
    }
    return keys;
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

  /** After the handler: saves the session if it changed, or ends it. */
  async save(): Promise<void> {
    const value = this.#c.get("session");
    if (value === null || value === undefined) {
      this.#ended = true;
      return await this.#end();
    }
    const out = this.#adopt(value).finish();
    if (out === undefined) {
      if (this.#ended) await this.#end();
      return;
    }
    const c = this.#c;
    const onEvent = this.#options.onEvent;
    // Ended, then written to: the old session goes, a new one starts.
    let from = this.#loaded;
    if (this.#ended && from !== undefined) {
      await this.#mode.end(from, c);
      onEvent?.({ type: "signed-out" }, c);
      from = undefined;
    }
    const saved = await this.#mode.save(out, from, c);
    if (saved.keepCookie) return;
    const persistent = saved.persistent ?? this.#options.persistent;
    // The browser already holds this very cookie, with the same lifetime
    // (a store-mode write that kept its id, its deadline or, for a
    // browser-session cookie, that it has none): sending it again would
    // change nothing, and costs Hono a copy of the response.
    if (
      from !== undefined && saved.value === this.#cookieValue &&
      persistent === (from.meta.persistent ?? this.#options.persistent) &&
      (!persistent || saved.expires === from.meta.expires)
    ) return;
    // A browser-session cookie has no Max-Age: it goes when the browser
    // closes, or earlier when the server deadline refuses it.
    const now = Date.now();
    const seconds = persistent
      ? Math.max(1, Math.ceil((saved.expires - now) / 1000))
      : undefined;
    // A device-bound session's cookie lasts until its next proof is due
    // (rounded down: never past the moment the server refuses it),
    // whatever the session's own lifetime.
    const until = saved.cookieUntil;
    const sessionSeconds = until === undefined ? undefined : Math.max(
      1,
      Math.floor((Math.min(until, saved.expires) - now) / 1000),
    );
    const bytes = this.#options.cookies.write(
      c,
      saved.value,
      seconds,
      this.#carried,
      sessionSeconds,
    );
    // Reported once the cookie is on its way: a session too big for its
    // cookie was never created.
    if (onEvent) {
      if (from === undefined) onEvent({ type: "created" }, c);
      else if (out.regenerated) onEvent({ type: "regenerated" }, c);
      onEvent({ type: "cookie-written", bytes }, c);
    }
  }

  // The session is over: forget it on the server and in the browser.
  async #end(): Promise<void> {
    if (this.#loaded !== undefined) {
      await this.#mode.end(this.#loaded, this.#c);
      this.#options.onEvent?.({ type: "signed-out" }, this.#c);
    }
    const cookies = this.#options.cookies;
    if (
      this.#cookieValue !== undefined || this.#carried !== 0 ||
      readCookie(this.#c, cookies.existsWireName) !== undefined
    ) cookies.clear(this.#c, this.#carried);
  }

  /** Makes this session `c.session` again, once a nested middleware is done. */
  restore(session: unknown): void {
    this.#c.set(REQUEST as never, this as never);
    this.#c.set("session", session as never);
  }
}
