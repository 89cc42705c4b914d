/**
 * The session middleware.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Session } from "./mod.ts";
import type { SessionOptions } from "./session_options.ts";
import type { SessionRecord } from "./session_store.ts";
import type { SessionEvent } from "./session_event.ts";
import { SessionConflictError } from "./session_conflict_error.ts";
import { type ResolvedOptions, resolveOptions } from "./_options.ts";
import { clearCookies, readCookie, writeCookies } from "./_cookie.ts";
import { isToken, randomToken, storeKey } from "./_random.ts";
import {
  expiredReason,
  isRecord,
  SessionState,
  stateOf,
} from "./_session_state.ts";
import { openSeal, sealRecord } from "./_seal.ts";
import { mergeRecords } from "./_merge.ts";

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
    const outer = c.get(REQUEST as never) as RequestSession | undefined;
    // The same middleware mounted twice on one route: the first one serves.
    if (outer?.uses(resolved)) return await next();
    // Another session() middleware encloses this one: each keeps its own
    // session and cookies, and c.session is the innermost.
    const outerSession: unknown = outer && c.get("session");
    const request = new RequestSession(resolved, c, outer);
    await request.load();
    try {
      await next();
      if (c.error || c.res.status >= 500) return;
      await request.save();
    } finally {
      if (outer) {
        c.set(REQUEST as never, outer as never);
        c.set("session", outerSession as never);
      }
    }
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

/**
 * The JSON of the values of records this module handed to a store: a store
 * that keeps objects (a Map, MemoryStore) gives the same object back, and
 * its JSON need not be made again.
 */
const savedJson = new WeakMap<SessionRecord, string>();

/** The session a request came with, as loaded. */
interface Loaded {
  record: SessionRecord;
  /** The JSON of `record.data`, when known. */
  json?: string;
  /** The values parsed from `json`, shared read-only, when known. */
  parsed?: Record<string, unknown>;
  /** Cookie mode: the cookie's value. */
  sealed?: string;
  /** Store mode: the cookie's token, and the key the store keeps it under. */
  token?: string;
  key?: string;
}

/** How many times a conflicting store write is merged and tried again. */
const MERGE_ATTEMPTS = 3;

// The session's life within one request: loaded before the handler, saved
// (or ended) after it.
class RequestSession {
  readonly #options: ResolvedOptions;
  readonly #c: Context;
  #state!: SessionState;
  /** The session the request came with, if any was valid. */
  #loaded: Loaded | undefined;
  /** The request carried a session cookie, valid or not. */
  #sentCookie = false;
  /** The session the request came with was ended (`c.session = null`). */
  #ended = false;
  /** The session of an enclosing session() middleware, if any. */
  readonly #outer: RequestSession | undefined;

  /**
   * @param outer The session of an enclosing session() middleware on the
   *   same request, if any: its cookie names must differ from ours.
   */
  constructor(options: ResolvedOptions, c: Context, outer?: RequestSession) {
    this.#options = options;
    this.#c = c;
    for (let o = outer; o; o = o.#outer) {
      const theirs = [o.#options.wireName, o.#options.existsWireName];
      for (const name of [options.wireName, options.existsWireName]) {
        if (!theirs.includes(name)) continue;
        throw new TypeError(
          `two session() middlewares run on this request and both use the cookie "${name}" (outer: cookieName "${
            theirs[0]
          }", existsCookieName "${
            theirs[1]
          }"; inner: cookieName "${options.wireName}", existsCookieName "${options.existsWireName}"); give each its own cookieName and existsCookieName`,
        );
      }
    }
    this.#outer = outer;
  }

  /** Whether this request's session comes from the middleware with `options`, here or in an enclosing one. */
  uses(options: ResolvedOptions): boolean {
    return this.#options === options || (this.#outer?.uses(options) ?? false);
  }

  #report(event: SessionEvent): void {
    this.#options.onEvent?.(event, this.#c);
  }

  async load(): Promise<void> {
    const c = this.#c;
    // The refusal callback only when someone listens: no closure per
    // request otherwise.
    const value = readCookie(
      c,
      this.#options.wireName,
      this.#options.onEvent &&
        ((reason) => this.#report({ type: "invalid-cookie", reason })),
    );
    if (value !== undefined) {
      this.#sentCookie = true;
      this.#loaded = this.#options.store
        ? await this.#fromStore(value)
        : await this.#fromCookie(value);
    }
    this.#state = this.#stateFor(this.#loaded);
    c.set(REQUEST as never, this as never);
    c.set("session", this.#state.proxy as never);
  }

  async #fromStore(token: string): Promise<Loaded | undefined> {
    // A value that is not one of our ids never reaches the store.
    if (!isToken(token)) {
      this.#report({ type: "invalid-cookie", reason: "malformed" });
      return undefined;
    }
    const store = this.#options.store!;
    const known = this.#options.storeKeys.get(token);
    const key = known ?? storeKey(token);
    const record = await store.get(key, this.#c);
    if (record === undefined || record === null) {
      this.#report({ type: "unknown-id" });
      return undefined;
    }
    if (!isRecord(record)) {
      this.#report({ type: "invalid-cookie", reason: "bad-record" });
      return undefined;
    }
    const expired = expiredReason(record, this.#options, Date.now());
    if (expired) {
      this.#report({ type: "expired", reason: expired });
      await store.delete(key, this.#c);
      return undefined;
    }
    // Remember the hash only for ids the store knows: clients cannot fill
    // the memo with made-up ids.
    if (known === undefined) this.#options.storeKeys.set(token, key);
    // A record we saved ourselves holds our own parse of its JSON: shareable.
    const json = savedJson.get(record);
    return {
      record,
      token,
      key,
      json,
      parsed: json === undefined ? undefined : record.data,
    };
  }

  async #fromCookie(value: string): Promise<Loaded | undefined> {
    const verified = this.#options.verified;
    // A custom encoder decides on every request (it may revoke a value), so
    // only iron seals are remembered.
    const custom = this.#options.encoder !== undefined;
    let seen = custom ? undefined : verified.get(value);
    if (seen === undefined) {
      const opened = await openSeal(value, this.#options);
      if ("refused" in opened) {
        this.#report({ type: "invalid-cookie", reason: opened.refused });
        return undefined;
      }
      let json: string;
      try {
        json = JSON.stringify(opened.record.data);
      } catch {
        this.#report({ type: "invalid-cookie", reason: "bad-record" });
        return undefined;
      }
      // Only genuine seals are remembered, by their exact text.
      seen = { record: opened.record, json, keyIndex: opened.keyIndex };
      if (!custom) verified.set(value, seen);
    }
    // The deadlines are checked on every request, cached or not.
    const expired = expiredReason(seen.record, this.#options, Date.now());
    if (expired) {
      this.#report({ type: "expired", reason: expired });
      verified.delete(value);
      return undefined;
    }
    if (seen.keyIndex > 0) {
      this.#report({ type: "rotated-secret", keyIndex: seen.keyIndex });
    }
    seen.parsed ??= JSON.parse(seen.json);
    return {
      record: seen.record,
      json: seen.json,
      parsed: seen.parsed,
      sealed: value,
    };
  }

  #stateFor(loaded: Loaded | undefined): SessionState {
    if (loaded) {
      try {
        return new SessionState(
          this.#options,
          loaded.record,
          loaded.json,
          loaded.parsed,
        );
      } catch {
        // Values that are not JSON (a store returning odd data): no session.
        this.#report({ type: "invalid-cookie", reason: "bad-record" });
        this.#loaded = undefined;
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
    const value = this.#c.get("session");
    if (value === null || value === undefined) {
      this.#ended = true;
      return await this.#end();
    }
    const state = this.#adopt(value);
    const { json, flash } = state.finish();
    const touched = !state.isNew && state.touch();
    const changed = state.forced || touched || json !== state.initial ||
      !sameKeys(flash, state.loadedFlash);
    if (!changed || (state.isNew && json === "{}" && !state.forced)) {
      if (this.#ended) await this.#end();
      return;
    }
    const seconds = Math.max(1, Math.ceil((state.expires - Date.now()) / 1000));
    if (this.#options.store) {
      const token = await this.#saveToStore(state, json, flash);
      writeCookies(this.#c, this.#options, token, seconds);
    } else {
      const record = state.record(state.values(), flash);
      const sealed = await sealRecord(record, json, this.#options);
      writeCookies(this.#c, this.#options, sealed, seconds);
      // The browser sends this cookie next: it is known to be genuine.
      if (!this.#options.encoder) {
        this.#options.verified.set(sealed, {
          record: { ...record, data: {} },
          json,
          keyIndex: 0,
        });
      }
    }
  }

  // Saves to the store and returns the token the cookie gets. A session
  // that keeps its id is written with a checked `set`; a regenerated one
  // moves to its new id with the store's checked `replace`. Either way a
  // conflict with another request reloads the session, merges the two
  // requests' changes and tries again, or fails with 409.
  async #saveToStore(
    state: SessionState,
    json: string,
    flash: string[],
  ): Promise<string> {
    const store = this.#options.store!;
    const c = this.#c;
    const loaded = this.#loaded;
    // The entry this request loaded, when the save is checked against it.
    const from = loaded !== undefined && !state.isNew ? loaded : undefined;
    const keep = from !== undefined && !state.regenerated;
    const move = from !== undefined && !keep && store.replace !== undefined;
    const { token, key } = keep
      ? { token: from.token!, key: from.key! }
      : this.#newId();
    let record = state.record(JSON.parse(json), flash);
    savedJson.set(record, json);
    for (let attempt = 1;; attempt++) {
      try {
        if (move) await store.replace!(from.key!, key, record, c);
        else await store.set(key, record, c);
        if (attempt > 1) this.#report({ type: "conflict", outcome: "merged" });
        break;
      } catch (error) {
        if (!(error instanceof SessionConflictError) || !(keep || move)) {
          throw error;
        }
        // Another request wrote first: reload, merge, try again.
        const reject = (message: string): never => {
          this.#report({ type: "conflict", outcome: "rejected" });
          throw new SessionConflictError(message);
        };
        if (attempt >= MERGE_ATTEMPTS) {
          reject(
            `the session kept changing under this request; gave up after ${MERGE_ATTEMPTS} attempts`,
          );
        }
        const current = await store.get(from.key!, c);
        if (
          !isRecord(current) ||
          expiredReason(current, this.#options, Date.now())
        ) {
          reject("the session was ended by another request while this one ran");
        }
        const merged = mergeRecords(from.record, record, current!);
        if (!merged) {
          reject("another request changed the same session value meanwhile");
        }
        record = merged!;
        savedJson.set(record, JSON.stringify(record.data));
      }
    }
    // Without `replace` (a Map, a store of the app's own): write the new id,
    // then drop the old one. A concurrent sign-out can then be undone.
    if (!move && loaded?.key !== undefined && loaded.key !== key) {
      await store.delete(loaded.key, c);
    }
    return token;
  }

  #newId(): { token: string; key: string } {
    const token = randomToken();
    const key = storeKey(token);
    this.#options.storeKeys.set(token, key);
    return { token, key };
  }

  // The session is over: forget it on the server and in the browser.
  async #end(): Promise<void> {
    const loaded = this.#loaded;
    if (loaded?.key !== undefined) {
      await this.#options.store!.delete(loaded.key, this.#c);
      this.#options.storeKeys.delete(loaded.token!);
    }
    if (loaded?.sealed !== undefined) {
      this.#options.verified.delete(loaded.sealed);
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
