// One session as a request sees it: the values behind `c.session` (copied
// from the loaded JSON only when something needs a copy), what changed, and
// the proxy handlers read and write. The deadlines and the flash keys are
// kept by their own classes.
import type { Session } from "../session.ts";
import type { ResolvedOptions } from "./options.ts";
import { checkMaxAge } from "./options.ts";
import { stringifyData } from "./values.ts";
import { checkKey, MEMBERS } from "./members.ts";
import { Lifetime, type SessionMeta } from "./lifetime.ts";
import { Flash, sameFlash } from "./flash.ts";
import { checkChoices } from "./choices.ts";
import { randomToken } from "../_lib/random.ts";

/** A session as loaded: its bookkeeping and its values as JSON. */
export interface Snapshot {
  meta: SessionMeta;
  /** The values as JSON. */
  json: string;
  /** `json` parsed, shared between requests and never written, if known. */
  parsed: Record<string, unknown> | undefined;
}

/** What a request saves: the values as JSON and the bookkeeping. */
export interface Outgoing {
  json: string;
  meta: SessionMeta;
  /** The session moves to a new id (`regenerate()`). */
  regenerated: boolean;
  /**
   * Nothing changed but the idle deadline: the save only writes back the
   * request's activity (`idleTimeout`).
   */
  activityOnly: boolean;
}

const STATE: unique symbol = Symbol("session state");
const NO_KEYS: readonly string[] = Object.freeze([]);

/** The state of one session during one request. */
export class SessionState implements ProxyHandler<Record<string, unknown>> {
  /** What handlers get as `c.session`. */
  readonly proxy: Session;
  /** Whether the session was started by this request. */
  readonly isNew: boolean;
  readonly #options: ResolvedOptions;
  readonly #lifetime: Lifetime;
  readonly #flash: Flash;
  /** JSON of the values as loaded: `{}` for a new session. */
  readonly #initial: string;
  /**
   * The values; the target of the proxy, which never changes. It is filled
   * from the loaded JSON only when first needed (see #values()).
   */
  readonly #data: Record<string, unknown> = Object.create(null);
  /** Whether `#data` holds the values yet. */
  #filled: boolean;
  /**
   * Until `#data` is filled: the same values, parsed once and shared
   * between requests, read but never written. Reads of plain values come
   * from here, so a request that only reads copies nothing.
   */
  #shared: Record<string, unknown> | undefined;
  /** A value was set, deleted or defined through the proxy. */
  #written = false;
  /** An object value was handed out: it may have been changed in place. */
  #escaped = false;
  /** Save even if nothing changed (renew, regenerate). */
  #forced = false;
  #regenerated = false;
  /** The session's own cookie-lifetime choice, if it made one. */
  #persistent: boolean | undefined;
  /** The user the session is tied to, if any. */
  #user: string | undefined;
  /** With a user: the random name of this sign-in (see SessionRecord). */
  #handle: string | undefined;
  /** A device-bound session's bookkeeping, carried as it was loaded. */
  readonly #binding: object | undefined;
  #methods?: Record<string, unknown>;

  /** A loaded session, or a new one when `loaded` is absent. */
  constructor(options: ResolvedOptions, loaded?: Snapshot) {
    this.#options = options;
    this.#lifetime = new Lifetime(options, loaded?.meta);
    this.#flash = new Flash(loaded?.meta.flash);
    this.isNew = loaded === undefined;
    this.#initial = loaded?.json ?? "{}";
    this.#filled = loaded === undefined;
    this.#shared = loaded?.parsed;
    this.#persistent = loaded?.meta.persistent;
    this.#user = loaded?.meta.user;
    this.#handle = loaded?.meta.handle;
    this.#binding = loaded?.meta.binding;
    this.proxy = new Proxy(this.#data, this) as unknown as Session;
  }

  /** Whether `regenerate()` was called. */
  get regenerated(): boolean {
    return this.#regenerated;
  }

  // The values, filled from the loaded JSON on first need: a copy of our own.
  #values(): Record<string, unknown> {
    if (!this.#filled) {
      this.#filled = true;
      this.#shared = undefined;
      Object.assign(this.#data, JSON.parse(this.#initial));
    }
    return this.#data;
  }

  get #hasChanged(): boolean {
    if (!this.#filled) return false;
    try {
      return JSON.stringify(this.#data) !== this.#initial;
    } catch {
      return true;
    }
  }

  renew(maxAge: number = this.#options.maxAge, options?: unknown): void {
    if (typeof maxAge === "object" && maxAge !== null) {
      throw new TypeError(
        "c.session.renew(maxAge, options): the lifetime comes first; to keep the configured maxAge and change only the options, call renew(undefined, { persistent: true })",
      );
    }
    checkMaxAge(maxAge, "renew(maxAge)");
    const { persistent } = checkChoices(
      options,
      "renew",
      this.#options.store !== undefined,
    );
    this.#lifetime.restart(maxAge);
    if (persistent !== undefined) this.#persistent = persistent;
    this.#forced = true;
  }

  regenerate(options?: unknown): void {
    const { persistent, user } = checkChoices(
      options,
      "regenerate",
      this.#options.store !== undefined,
    );
    this.#lifetime.restart(this.#options.maxAge, true);
    if (persistent !== undefined) this.#persistent = persistent;
    if (user !== undefined) {
      // A sign-in: a new name for it in the user's listing.
      this.#user = user;
      this.#handle = randomToken().slice(0, 22);
    }
    this.#regenerated = true;
    this.#forced = true;
  }

  flash(key: string, value: unknown): void {
    this.#values()[checkKey(key)] = value;
    this.#written = true;
    this.#flash.keep(key);
  }

  reflash(): void {
    this.#flash.reflash();
  }

  /** Replaces every value with those of `value`, a plain object. */
  replace(value: unknown): void {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new TypeError(
        "c.session can only be set to an object (its new values) or null (to end it)",
      );
    }
    // Symbol keys are refused like any other bad key: the values object
    // only ever holds string keys (stringifyData relies on it).
    for (const key of Reflect.ownKeys(value)) checkKey(key);
    // Nothing of the old values survives: no need to load them first.
    this.#filled = true;
    this.#shared = undefined;
    for (const key of Object.keys(this.#data)) delete this.#data[key];
    Object.assign(this.#data, value);
    this.#written = true;
  }

  /**
   * Ends the request: drops the flashed values it was given, moves the
   * idle deadline for its activity, and returns what to save, or
   * undefined when nothing needs saving. Throws a TypeError if a value is
   * not JSON.
   */
  finish(): Outgoing | undefined {
    for (const key of this.#flash.expiring()) {
      delete this.#values()[key];
      this.#written = true;
    }
    const flash = this.#flash.keeps
      ? this.#flash.saved(this.#values())
      : NO_KEYS;
    // Values nobody wrote to, and no object handed out: still the JSON
    // they were loaded from, no need to serialize (and check) them again.
    const json = this.#written || this.#escaped
      ? stringifyData(this.#data)
      : this.#initial;
    const touched = !this.isNew && this.#lifetime.touch();
    const changed = this.#forced || json !== this.#initial ||
      !sameFlash(flash, this.#flash.loaded) || this.#flash.keepsLoaded;
    if (
      !(changed || touched) || (this.isNew && json === "{}" && !this.#forced)
    ) {
      return undefined;
    }
    const meta = this.#lifetime.meta(flash);
    if (this.#persistent !== undefined) meta.persistent = this.#persistent;
    if (this.#user !== undefined) {
      meta.user = this.#user;
      meta.handle = this.#handle ?? randomToken().slice(0, 22);
      meta.seen = Date.now();
    }
    if (this.#binding !== undefined) meta.binding = this.#binding;
    return {
      json,
      meta,
      regenerated: this.#regenerated,
      activityOnly: !changed,
    };
  }

  // The proxy's traps: members of the API come from here, values from the
  // shared parsed values while nothing needs a copy, else from `#data`.

  get(target: Record<string, unknown>, key: string | symbol): unknown {
    if (typeof key !== "string") return key === STATE ? this : undefined;
    if (MEMBERS.has(key)) return this.#member(key);
    if (!this.#filled) {
      const shared = this.#shared;
      if (shared !== undefined) {
        if (!Object.hasOwn(shared, key)) return undefined;
        const value = shared[key];
        if (typeof value !== "object" || value === null) return value;
      }
      this.#values();
    }
    const value = target[key];
    if (typeof value === "object" && value !== null) this.#escaped = true;
    return value;
  }

  #member(key: string): unknown {
    if (key === "hasChanged") return this.#hasChanged;
    if (key === "isNew") return this.isNew;
    this.#methods ??= {
      renew: (maxAge?: number, options?: unknown) =>
        this.renew(maxAge, options),
      regenerate: (options?: unknown) => this.regenerate(options),
      flash: (k: string, v: unknown) => this.flash(k, v),
      reflash: () => this.reflash(),
    };
    return this.#methods[key];
  }

  set(
    _target: Record<string, unknown>,
    key: string | symbol,
    value: unknown,
  ): boolean {
    this.#values()[checkKey(key)] = value;
    this.#written = true;
    return true;
  }

  defineProperty(
    _target: Record<string, unknown>,
    key: string | symbol,
    descriptor: PropertyDescriptor,
  ): boolean {
    checkKey(key);
    // Values are data: JSON would turn a getter into a value and drop a
    // hidden property.
    if (
      !("value" in descriptor) || descriptor.enumerable === false ||
      "get" in descriptor || "set" in descriptor
    ) {
      throw new TypeError(
        `session value "${
          String(key)
        }" must be a plain, enumerable value; getters, setters and hidden properties do not survive JSON`,
      );
    }
    this.#written = true;
    return Reflect.defineProperty(this.#values(), key, {
      value: descriptor.value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }

  deleteProperty(
    _target: Record<string, unknown>,
    key: string | symbol,
  ): boolean {
    this.#written = true;
    return Reflect.deleteProperty(this.#values(), key);
  }

  has(_target: Record<string, unknown>, key: string | symbol): boolean {
    return Reflect.has(this.#values(), key);
  }

  ownKeys(_target: Record<string, unknown>): (string | symbol)[] {
    return Reflect.ownKeys(this.#values());
  }

  getOwnPropertyDescriptor(
    _target: Record<string, unknown>,
    key: string | symbol,
  ): PropertyDescriptor | undefined {
    const descriptor = Reflect.getOwnPropertyDescriptor(this.#values(), key);
    if (typeof descriptor?.value === "object" && descriptor.value !== null) {
      this.#escaped = true;
    }
    return descriptor;
  }
}

/** The state behind a session proxy, or undefined for any other value. */
export function stateOf(value: unknown): SessionState | undefined {
  return value !== null && typeof value === "object"
    ? (value as { [STATE]?: SessionState })[STATE]
    : undefined;
}
