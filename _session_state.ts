// One session as a request sees it: the values behind `c.session`, their
// lifetime, flash bookkeeping, and the proxy handlers read and write.
import type { Session, SessionMember } from "./mod.ts";
import type { SessionRecord } from "./session_store.ts";
import { checkMaxAge, type ResolvedOptions } from "./_options.ts";
import { stringifyData } from "./_json.ts";

const MEMBERS: ReadonlySet<string> = new Set<SessionMember>([
  "renew",
  "regenerate",
  "flash",
  "reflash",
  "hasChanged",
  "isNew",
]);

const STATE: unique symbol = Symbol("session state");

function checkKey(key: string | symbol): string {
  if (typeof key !== "string") {
    throw new TypeError("session keys must be strings, not symbols");
  }
  if (MEMBERS.has(key)) {
    throw new TypeError(
      `"${key}" is a member of the session API and cannot hold a value; pick another key`,
    );
  }
  return key;
}

/** Whether `value` has the shape of a {@linkcode SessionRecord}. */
export function isRecord(value: unknown): value is SessionRecord {
  if (value === null || typeof value !== "object") return false;
  const { data, expires, created, limit, flash } = value as Record<
    string,
    unknown
  >;
  return data !== null && typeof data === "object" && !Array.isArray(data) &&
    Number.isFinite(expires) &&
    (created === undefined || Number.isFinite(created)) &&
    (limit === undefined || Number.isFinite(limit)) &&
    (flash === undefined ||
      (Array.isArray(flash) && flash.every((k) => typeof k === "string")));
}

/**
 * Why a record can no longer be used at `now`, or undefined while it is
 * alive. The deadlines are checked here, on the server, exactly.
 */
export function expiredReason(
  record: SessionRecord,
  options: ResolvedOptions,
  now: number,
): "lifetime" | "idle" | "absolute" | undefined {
  if (
    options.absoluteMs !== Infinity &&
    (record.created === undefined || record.created + options.absoluteMs <= now)
  ) return "absolute";
  if (record.expires > now) return undefined;
  return record.limit !== undefined && record.expires < record.limit
    ? "idle"
    : "lifetime";
}

/** The state of one session during one request. */
export class SessionState implements ProxyHandler<Record<string, unknown>> {
  /**
   * The values; the target of {@linkcode proxy}, which never changes. It is
   * filled from the loaded JSON only when first needed (see values()).
   */
  readonly data: Record<string, unknown> = Object.create(null);
  /** What handlers get as `c.session`. */
  readonly proxy: Session;
  /** JSON of the values as loaded: `{}` for a new session. */
  readonly initial: string;
  /** Keys flashed by an earlier request: removed at the end of this one. */
  readonly loadedFlash: readonly string[];
  /** Keys flashed now (or kept): they survive one more request. */
  #flashed: Set<string> | undefined;
  /** When the session ends unless used again, in ms since the epoch. */
  expires: number;
  /** The latest `expires` may move to: the maxAge or absolute deadline. */
  limit: number;
  /** When the session was created or regenerated, in ms since the epoch. */
  created: number;
  /** Whether the session was started by this request. */
  readonly isNew: boolean;
  /** Save even if nothing changed (renew, regenerate). */
  forced = false;
  /** Move to a new id when saved. */
  regenerated = false;
  /** A value was set, deleted or defined through the proxy. */
  written = false;
  /** An object value was handed out: it may have been changed in place. */
  escaped = false;
  readonly #options: ResolvedOptions;
  /** Whether `data` holds the values yet. */
  #filled: boolean;
  /**
   * Until `data` is filled: the same values, parsed once and shared between
   * requests, read but never written. Reads of plain values come from
   * here, so a request that only reads copies nothing.
   */
  #shared: Record<string, unknown> | undefined;
  #methods?: Record<string, unknown>;

  /**
   * @param record The loaded session, if any.
   * @param json The JSON of `record.data`, when already known.
   * @param shared The parsed values, when known to be pure JSON that
   *   nobody writes to.
   */
  constructor(
    options: ResolvedOptions,
    record?: SessionRecord,
    json?: string,
    shared?: Record<string, unknown>,
  ) {
    this.#options = options;
    if (record) {
      this.initial = json ?? JSON.stringify(record.data);
      this.#filled = false;
      this.#shared = shared;
      this.expires = record.expires;
      this.limit = record.limit ?? record.expires;
      this.created = record.created ?? Date.now();
      this.loadedFlash = record.flash ?? [];
      this.isNew = false;
    } else {
      this.initial = "{}";
      this.#filled = true;
      this.created = Date.now();
      this.expires = this.limit = 0;
      this.#restart(options.maxAge);
      this.loadedFlash = [];
      this.isNew = true;
    }
    this.proxy = new Proxy(this.data, this) as unknown as Session;
  }

  /** The values, filled from the loaded JSON on first need: a copy of our own. */
  values(): Record<string, unknown> {
    if (!this.#filled) {
      this.#filled = true;
      this.#shared = undefined;
      Object.assign(this.data, JSON.parse(this.initial));
    }
    return this.data;
  }

  get hasChanged(): boolean {
    if (!this.#filled) return false;
    try {
      return JSON.stringify(this.data) !== this.initial;
    } catch {
      return true;
    }
  }

  // Sets the deadlines for a lifetime of `maxAge` seconds from now, within
  // the absolute timeout.
  #restart(maxAge: number): void {
    const now = Date.now();
    const options = this.#options;
    this.limit = Math.min(
      now + maxAge * 1000,
      this.created + options.absoluteMs,
    );
    this.expires = Math.min(this.limit, now + options.idleMs);
  }

  renew(maxAge: number = this.#options.maxAge): void {
    checkMaxAge(maxAge, "renew(maxAge)");
    this.#restart(maxAge);
    this.forced = true;
  }

  regenerate(): void {
    this.created = Date.now();
    this.#restart(this.#options.maxAge);
    this.regenerated = true;
    this.forced = true;
  }

  /**
   * With an idle timeout, pushes the deadline back for this request's
   * activity. Returns whether that alone is worth a write: only once the
   * configured fraction of the idle window has passed since the last one.
   */
  touch(): boolean {
    const options = this.#options;
    if (options.idleMs === Infinity) return false;
    const next = Math.min(this.limit, Date.now() + options.idleMs);
    if (next <= this.expires) return false;
    const worth = next - this.expires >= options.touchMs;
    this.expires = next;
    return worth;
  }

  /** The record to save, given the values and the flash keys. */
  record(data: Record<string, unknown>, flash: string[]): SessionRecord {
    const record: SessionRecord = {
      data,
      expires: this.expires,
      created: this.created,
    };
    if (this.limit !== this.expires) record.limit = this.limit;
    if (flash.length > 0) record.flash = flash;
    return record;
  }

  flash(key: string, value: unknown): void {
    this.values()[checkKey(key)] = value;
    this.written = true;
    (this.#flashed ??= new Set()).add(key);
  }

  reflash(): void {
    for (const key of this.loadedFlash) (this.#flashed ??= new Set()).add(key);
  }

  /** Replaces every value with those of `value`, a plain object. */
  replace(value: unknown): void {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new TypeError(
        "c.session can only be set to an object (its new values) or null (to end it)",
      );
    }
    for (const key of Object.keys(value)) checkKey(key);
    // Nothing of the old values survives: no need to load them first.
    this.#filled = true;
    this.#shared = undefined;
    for (const key of Object.keys(this.data)) delete this.data[key];
    Object.assign(this.data, value);
    this.written = true;
  }

  /**
   * Ends the request: drops the flashed values it was given, then returns
   * the values as JSON (throwing if one is not JSON) and the flash keys to
   * keep.
   */
  finish(): { json: string; flash: string[] } {
    const flashed = this.#flashed;
    for (const key of this.loadedFlash) {
      if (!flashed?.has(key)) {
        delete this.values()[key];
        this.written = true;
      }
    }
    const flash = flashed === undefined
      ? []
      : [...flashed].filter((key) => Object.hasOwn(this.values(), key));
    // Values nobody wrote to, and no object handed out: still the JSON
    // they were loaded from, no need to serialize (and check) them again.
    const json = this.written || this.escaped
      ? stringifyData(this.data)
      : this.initial;
    return { json, flash };
  }

  // The proxy's traps: members of the API come from here, values from the
  // shared parsed values while nothing needs a copy, else from `data`.

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
      this.values();
    }
    const value = target[key];
    if (typeof value === "object" && value !== null) this.escaped = true;
    return value;
  }

  #member(key: string): unknown {
    if (key === "hasChanged") return this.hasChanged;
    if (key === "isNew") return this.isNew;
    this.#methods ??= {
      renew: (maxAge?: number) => this.renew(maxAge),
      regenerate: () => this.regenerate(),
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
    this.values()[checkKey(key)] = value;
    this.written = true;
    return true;
  }

  defineProperty(
    _target: Record<string, unknown>,
    key: string | symbol,
    descriptor: PropertyDescriptor,
  ): boolean {
    checkKey(key);
    this.written = true;
    return Reflect.defineProperty(this.values(), key, descriptor);
  }

  deleteProperty(
    _target: Record<string, unknown>,
    key: string | symbol,
  ): boolean {
    this.written = true;
    return Reflect.deleteProperty(this.values(), key);
  }

  has(_target: Record<string, unknown>, key: string | symbol): boolean {
    return Reflect.has(this.values(), key);
  }

  ownKeys(_target: Record<string, unknown>): (string | symbol)[] {
    return Reflect.ownKeys(this.values());
  }

  getOwnPropertyDescriptor(
    _target: Record<string, unknown>,
    key: string | symbol,
  ): PropertyDescriptor | undefined {
    const descriptor = Reflect.getOwnPropertyDescriptor(this.values(), key);
    if (typeof descriptor?.value === "object" && descriptor.value !== null) {
      this.escaped = true;
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
