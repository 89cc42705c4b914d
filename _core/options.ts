// Checks the options given to session() and fills in the defaults, so that
// every mistake surfaces when the middleware is created.
import { generateCookie } from "hono/cookie";
import type { Context } from "hono";
import type { Encoder } from "../encoder.ts";
import type { SessionCookieOptions } from "../session_cookie_options.ts";
import type { SessionOptions } from "../session_options.ts";
import type { SessionStore } from "../session_store.ts";
import type { SessionEvent } from "../session_event.ts";
import {
  type CookieAttributes,
  cookiePair,
  plainCookies,
  prefixed,
  type SessionCookies,
} from "../_http/cookies.ts";
import {
  chunkedCookies,
  DEFAULT_CHUNKS,
  isChunkName,
  MAX_CHUNKS,
} from "../_http/chunks.ts";

/** The longest lifetime a browser honours for a cookie: 400 days. */
export const MAX_AGE_LIMIT = 400 * 24 * 60 * 60;
/** The fewest characters a secret may have. */
export const MIN_SECRET_LENGTH = 32;

/**
 * The options after checking, with every default filled in: plain values,
 * frozen. What the middleware remembers between requests (keys, caches)
 * belongs to the mode that uses it, not here.
 */
export interface ResolvedOptions {
  /** Store mode's store, or undefined for cookie mode. */
  readonly store: SessionStore | undefined;
  /** Cookie mode: a custom encoder, or undefined for iron seals. */
  readonly encoder: Encoder | undefined;
  /** Cookie mode: the secrets, newest first; undefined for a random one. */
  readonly secrets: readonly string[] | undefined;
  /** Cookie mode: how sessions too big for one cookie are compressed, if at all. */
  readonly compression: SessionOptions["compression"];
  /** Seconds. */
  readonly maxAge: number;
  /** Milliseconds, or Infinity when off. */
  readonly idleMs: number;
  /** Milliseconds between idle write-backs of an unchanged session. */
  readonly touchMs: number;
  /** Milliseconds, or Infinity when off. */
  readonly absoluteMs: number;
  readonly onEvent: ((event: SessionEvent, c: Context) => void) | undefined;
  /**
   * The session cookie and the exists cookie, and how the session cookie
   * travels: in one cookie, or (cookie mode, `cookieChunks`) in several.
   */
  readonly cookies: SessionCookies;
  /** Whether cookies outlive the browser, unless a session chose. */
  readonly persistent: boolean;
  /**
   * The session cookie's attributes, checked, with the defaults filled in
   * (device binding names the cookie by them).
   */
  readonly cookieOptions: Readonly<CookieAttributes>;
  /** Whose sessions are also read and moved to ours, if anyone's. */
  readonly migrateFrom: MigrateFrom | undefined;
}

/** The libraries whose sessions `migrateFrom` reads. */
export type MigrateFrom = NonNullable<SessionOptions["migrateFrom"]>;

const COOKIE_DEFAULTS: CookieAttributes = {
  httpOnly: true,
  secure: true,
  path: "/",
  sameSite: "Lax",
};

// RFC 6265 cookie-name characters (an HTTP token).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// Every key session() takes. Typed as a Record so that a key added to
// SessionOptions (or SessionCookieOptions) fails type checking here until it
// is listed; an unlisted key is refused at run time.
const OPTION_KEYS: Record<keyof SessionOptions, true> = {
  secret: true,
  encoder: true,
  store: true,
  maxAge: true,
  idleTimeout: true,
  touchFraction: true,
  absoluteTimeout: true,
  persistent: true,
  onEvent: true,
  cookieName: true,
  existsCookieName: true,
  cookieOptions: true,
  existsCookieOptions: true,
  compression: true,
  cookieChunks: true,
  migrateFrom: true,
  deviceBound: true,
};
const COOKIE_KEYS: Record<keyof SessionCookieOptions, true> = {
  domain: true,
  path: true,
  secure: true,
  httpOnly: true,
  sameSite: true,
  partitioned: true,
  priority: true,
  prefix: true,
};
// What other session libraries call some of our options.
const ALIASES = new Map([
  ["password", "secret"],
  ["name", "cookieName"],
  ["ttl", "maxAge"],
]);

const SAME_SITE = new Map([
  ["strict", "Strict"],
  ["lax", "Lax"],
  ["none", "None"],
]);
const PRIORITY = new Map([
  ["low", "Low"],
  ["medium", "Medium"],
  ["high", "High"],
]);

// One of a fixed set of words, in any letter case, written canonically.
function choice(
  value: unknown,
  words: Map<string, string>,
  what: string,
): string {
  const canonical = typeof value === "string"
    ? words.get(value.toLowerCase())
    : undefined;
  if (canonical === undefined) {
    const names = [...words.values()].map((w) => `"${w}"`);
    throw new TypeError(
      `session(): ${what} must be ${names.slice(0, -1).join(", ")} or ${
        names.at(-1)
      } (any letter case); got ${show(value)}`,
    );
  }
  return canonical;
}

/** A value as an error message shows it: strings quoted, others as is. */
function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

// Edit distance (optimal string alignment: a swap of neighbours counts 1),
// over one row per string position.
function distance(a: string, b: string): number {
  const width = b.length + 1;
  const d = new Array<number>((a.length + 1) * width);
  const at = (i: number, j: number): number => d[i * width + j] ?? 0;
  for (let i = 0; i <= a.length; i++) {
    for (let j = 0; j <= b.length; j++) {
      let best = i === 0 || j === 0 ? i || j : Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i * width + j] = best;
    }
  }
  return at(a.length, b.length);
}

// The candidate closest to `key` ([name compared, name suggested]), if it
// differs only in letter case or by a typo or two.
function closest(
  key: string,
  candidates: [string, string][],
): string | undefined {
  const lower = key.toLowerCase();
  const limit = lower.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const [name, suggested] of candidates) {
    const d = distance(lower, name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [suggested, d];
  }
  return best;
}

function unknownOption(
  what: string,
  suggestion: string | undefined,
  known: string,
): TypeError {
  return new TypeError(
    `session(): unknown option "${what}"; ${
      suggestion ? `did you mean "${suggestion}"?` : known
    }`,
  );
}

// A copy of an options object with every own property, enumerable or not:
// what session() reads is exactly what it checks. Anything but a plain
// object (a Map, a class instance, inherited options) is refused, as are
// symbol keys.
function plainCopy(value: unknown, what: string): Record<string, unknown> {
  const proto = value !== null && typeof value === "object"
    ? Object.getPrototypeOf(value)
    : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(
      `session(): ${what} must be a plain object ({ ... }); got ${
        value === null || typeof value !== "object"
          ? show(value)
          : `a ${proto?.constructor?.name ?? "object with a custom prototype"}`
      }`,
    );
  }
  const object = value as Record<string, unknown>;
  if (Object.getOwnPropertySymbols(object).length > 0) {
    throw new TypeError(`session(): ${what} cannot have symbol keys`);
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(object)) copy[key] = object[key];
  return copy;
}

// Refuses keys session() does not know: a misspelled option would
// otherwise fall back to its default without a word.
function checkKeys(options: object): void {
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(OPTION_KEYS, key)) continue;
    const suggestion = ALIASES.get(key) ?? closest(key, [
      ...Object.keys(OPTION_KEYS).map((k): [string, string] => [k, k]),
      ...Object.keys(COOKIE_KEYS).map((k): [string, string] => [
        k,
        `cookieOptions.${k}`,
      ]),
    ]);
    throw unknownOption(
      key,
      suggestion,
      `the options are ${Object.keys(OPTION_KEYS).join(", ")}`,
    );
  }
}

/** Throws a RangeError unless `maxAge` is a usable session lifetime in seconds. */
export function checkMaxAge(maxAge: unknown, what: string): number {
  if (
    typeof maxAge !== "number" || !Number.isFinite(maxAge) || maxAge <= 0 ||
    maxAge > MAX_AGE_LIMIT
  ) {
    throw new RangeError(
      `${what} must be a number of seconds above 0 and at most ${MAX_AGE_LIMIT} (400 days); got ${
        typeof maxAge === "string"
          ? `${JSON.stringify(maxAge)} (a string)`
          : String(maxAge)
      }`,
    );
  }
  return maxAge;
}

function checkName(name: unknown, option: string): string {
  if (typeof name !== "string" || !TOKEN.test(name)) {
    throw new TypeError(
      `session(): ${option} must be a non-empty cookie name made of letters, digits and !#$%&'*+-.^_\`|~; got ${
        JSON.stringify(name)
      }`,
    );
  }
  return name;
}

// One cookie attribute, checked; letter case made canonical where the
// attribute has a fixed set of values.
function checkAttribute(key: string, value: unknown, what: string): unknown {
  switch (key) {
    case "secure":
    case "httpOnly":
    case "partitioned":
      if (typeof value !== "boolean") {
        throw new TypeError(
          `session(): ${what} must be true or false; got ${show(value)}`,
        );
      }
      return value;
    case "sameSite":
      return choice(value, SAME_SITE, what);
    case "priority":
      return choice(value, PRIORITY, what);
    case "path":
      // A browser ignores a Path that does not start with "/", and scopes
      // the cookie to the directory of the request that set it instead.
      if (typeof value !== "string" || !value.startsWith("/")) {
        throw new TypeError(
          `session(): ${what} must start with "/"; got ${show(value)}`,
        );
      }
      return value;
    case "domain":
      if (typeof value !== "string") {
        throw new TypeError(
          `session(): ${what} must be a string; got ${show(value)}`,
        );
      }
      return value;
    default: // prefix
      if (value !== "host" && value !== "secure") {
        throw new TypeError(
          `session(): ${what} must be "host" or "secure"; got ${
            JSON.stringify(value)
          }`,
        );
      }
      return value;
  }
}

// Returns a checked copy of cookie attributes. An attribute set to
// undefined counts as left out, so it cannot unset a default (Secure,
// HttpOnly, Path, SameSite).
function checkCookieOptions(
  value: unknown,
  option: string,
): CookieAttributes {
  if (value === undefined) return {};
  const attributes = plainCopy(value, option);
  for (const key of ["maxAge", "expires"]) {
    if (key in attributes) {
      throw new TypeError(
        `session(): ${option}.${key} is not supported: the cookie's lifetime follows the session; set the maxAge option instead`,
      );
    }
  }
  const checked: Record<string, unknown> = {};
  for (const [key, attribute] of Object.entries(attributes)) {
    if (!Object.hasOwn(COOKIE_KEYS, key)) {
      throw unknownOption(
        `${option}.${key}`,
        closest(
          key,
          Object.keys(COOKIE_KEYS).map((k) => [k, `${option}.${k}`]),
        ),
        `${option} takes ${Object.keys(COOKIE_KEYS).join(", ")}`,
      );
    }
    if (attribute !== undefined) {
      checked[key] = checkAttribute(key, attribute, `${option}.${key}`);
    }
  }
  return checked as CookieAttributes;
}

// A cookie name typed with a prefix must spell it as browsers expect, and
// must not get a second one from the prefix option.
function checkNamePrefix(
  name: string,
  nameOption: string,
  attributes: CookieAttributes,
  option: string,
): void {
  const typed = /^__(host|secure)-/i.exec(name)?.[0];
  if (typed === undefined) return;
  const canonical = typed.length === 7 ? "__Host-" : "__Secure-";
  if (attributes.prefix !== undefined) {
    throw new TypeError(
      `session(): ${nameOption} "${name}" already starts with "${typed}" and ${option}.prefix adds another ("${
        prefixed(name, attributes)
      }"); remove one of them`,
    );
  }
  if (typed !== canonical) {
    throw new TypeError(
      `session(): ${nameOption} "${name}" starts with "${typed}": write the prefix as "${canonical}" (browsers that match it case-sensitively give the cookie none of its protection), or drop it from the name and set ${option}.prefix: "${
        canonical === "__Host-" ? "host" : "secure"
      }"`,
    );
  }
}

// The __Host- and __Secure- rules, checked here: Hono's cookie helper
// silently forces secure and path for a prefix instead of refusing a
// conflicting option. Then one trial run of Hono's serializer, so anything
// else it refuses (Partitioned without Secure, ...) fails at creation.
function checkCookie(
  name: string,
  nameOption: string,
  attributes: CookieAttributes,
  option: string,
): void {
  checkNamePrefix(name, nameOption, attributes, option);
  const full = prefixed(name, attributes);
  if (/^__host-/i.test(full)) {
    if (attributes.secure === false || attributes.path !== "/") {
      throw new TypeError(
        `session(): the cookie "${full}" uses the __Host- prefix, which needs secure: true and path: "/" in ${option}`,
      );
    }
    if (attributes.domain) {
      throw new TypeError(
        `session(): the cookie "${full}" uses the __Host- prefix, which forbids a domain; remove domain from ${option} or drop the prefix`,
      );
    }
  }
  if (/^__secure-/i.test(full) && attributes.secure === false) {
    throw new TypeError(
      `session(): the cookie "${full}" uses the __Secure- prefix, which needs secure: true in ${option}`,
    );
  }
  // Browsers drop a SameSite=None cookie that is not Secure.
  if (attributes.sameSite === "None" && attributes.secure === false) {
    const source = option === "existsCookieOptions"
      ? "existsCookieOptions (laid over cookieOptions)"
      : option;
    throw new TypeError(
      `session(): ${source} sets sameSite: "None" with secure: false, and browsers drop such cookies; remove secure: false, or choose sameSite "Lax" or "Strict"`,
    );
  }
  try {
    generateCookie(name, "1", { ...attributes, maxAge: 1 });
  } catch (error) {
    throw new TypeError(
      `session(): ${option} cannot be used for the cookie "${full}": ${
        (error as Error).message
      }`,
    );
  }
}

function checkStore(store: unknown): SessionStore | undefined {
  if (store === undefined) return undefined;
  // null would silently mean cookie mode.
  if (store === null) {
    throw new TypeError(
      "session(): store is null; pass a store, or leave the option out for cookie mode",
    );
  }
  const s = store as Record<string, unknown>;
  for (const method of ["get", "set", "delete"]) {
    if (typeof s[method] !== "function") {
      throw new TypeError(
        `session(): the store must have get, set and delete methods (a Map works); ${method} is missing`,
      );
    }
  }
  return store as SessionStore;
}

function checkEncoder(encoder: unknown): Encoder | undefined {
  if (encoder === undefined || encoder === null) return undefined;
  const e = encoder as Record<string, unknown>;
  if (typeof e.encode !== "function" || typeof e.decode !== "function") {
    throw new TypeError(
      "session(): encoder must have encode(record, secret) and decode(value, secret) methods",
    );
  }
  return encoder as Encoder;
}

const UNSET =
  "the environment variable you read it from is probably not set; set it (openssl rand -base64 32)";

// Secret left out: undefined, and the key ring draws a random one on first
// use, inside a request (Cloudflare Workers forbid random values at
// start-up, where apps usually create their middleware). A secret given
// but empty is refused: it is usually an unset environment variable, and a
// random secret per process would end sessions at every restart.
function checkSecrets(options: SessionOptions): string[] | undefined {
  const secret: unknown = options.secret;
  if (secret === undefined && !Object.hasOwn(options, "secret")) {
    return undefined;
  }
  if (secret === undefined || secret === null) {
    throw new TypeError(
      `session(): secret is ${secret}: ${UNSET}, or leave the secret option out for a random per-process secret`,
    );
  }
  // A copy: each entry is read once, and the caller's array stays theirs.
  const list: unknown[] = Array.isArray(secret) ? [...secret] : [secret];
  if (list.length === 0) {
    throw new TypeError(
      "session(): secret is an empty list; give at least one secret, newest first",
    );
  }
  list.forEach((entry, i) => {
    const what = Array.isArray(secret) ? `secret[${i}]` : "secret";
    if (typeof entry === "string" && entry.trim() === "") {
      throw new RangeError(
        `session(): ${what} is empty: ${UNSET}, or ${
          Array.isArray(secret)
            ? "drop it from the list"
            : "leave the secret option out for a random per-process secret"
        }`,
      );
    }
    if (typeof entry !== "string") {
      throw new TypeError(
        `session(): ${what} must be a string of at least ${MIN_SECRET_LENGTH} characters`,
      );
    }
    if (entry.length < MIN_SECRET_LENGTH) {
      throw new RangeError(
        `session(): ${what} must have at least ${MIN_SECRET_LENGTH} characters; this one has ${entry.length}. Generate one with: openssl rand -base64 32`,
      );
    }
  });
  if (new Set(list).size !== list.length) {
    throw new TypeError("session(): secret lists the same secret twice");
  }
  return list as string[];
}

function checkCompression(value: unknown): SessionOptions["compression"] {
  if (value === undefined) return undefined;
  if (value !== "deflate-raw" && value !== "gzip") {
    throw new TypeError(
      `session(): compression must be "deflate-raw" or "gzip"; got ${
        show(value)
      }`,
    );
  }
  if (
    typeof CompressionStream !== "function" ||
    typeof DecompressionStream !== "function"
  ) {
    throw new TypeError(
      "session(): compression needs CompressionStream and DecompressionStream, which this runtime does not have (Deno, Node 18+, Bun and Workers do); remove the option",
    );
  }
  return value;
}

// cookieChunks: off (left out, or false), true for the default, or the
// most cookies a session may span.
function checkChunks(value: unknown): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return DEFAULT_CHUNKS;
  if (typeof value !== "number") {
    throw new TypeError(
      `session(): cookieChunks must be true, false, or the most cookies a session may span (2 to ${MAX_CHUNKS}); got ${
        show(value)
      }`,
    );
  }
  if (!Number.isInteger(value) || value < 2 || value > MAX_CHUNKS) {
    throw new RangeError(
      `session(): cookieChunks must be a whole number from 2 to ${MAX_CHUNKS} (true means ${DEFAULT_CHUNKS}); got ${value}. Leave it out to keep the session in one cookie`,
    );
  }
  return value;
}

const MIGRATE_FROM: Record<MigrateFrom, true> = { "hono-session@1": true };

// migrateFrom: off, or a library this package reads. In cookie mode it
// needs the secret that library sealed its cookies with: a random one
// (no secret given) opens none of them.
function checkMigrateFrom(
  value: unknown,
  randomSecret: boolean,
): MigrateFrom | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !Object.hasOwn(MIGRATE_FROM, value)) {
    throw new TypeError(
      `session(): migrateFrom must be ${
        Object.keys(MIGRATE_FROM).map((v) => `"${v}"`).join(" or ")
      } (the sessions of hono-session 1.x, npm); got ${show(value)}`,
    );
  }
  if (randomSecret) {
    throw new TypeError(
      `session(): migrateFrom "${value}" reads cookies sealed with the secret that library used, and no secret is given (so a random one would be drawn); give the same secret as before`,
    );
  }
  return value as MigrateFrom;
}

function checkOptionalSeconds(value: unknown, what: string): number {
  return value === undefined ? Infinity : checkMaxAge(value, what) * 1000;
}

/** Checks `options` and returns them with every default in place. */
export function resolveOptions(given: SessionOptions = {}): ResolvedOptions {
  const options = plainCopy(given, "options") as SessionOptions;
  checkKeys(options);
  for (const [key, value] of Object.entries(options)) {
    // null would silently mean the default (store and secret say more).
    if (value === null && key !== "store" && key !== "secret") {
      throw new TypeError(
        `session(): ${key} is null; give a value, or leave the option out for the default`,
      );
    }
  }
  const store = checkStore(options.store);
  const encoder = checkEncoder(options.encoder);
  if (store) {
    for (
      const key of ["secret", "encoder", "compression", "cookieChunks"] as const
    ) {
      // Even when undefined here: set in production, it would be refused.
      if (Object.hasOwn(options, key)) {
        throw new TypeError(
          `session(): ${key} does nothing with a store: remove it, or remove the store to keep sessions in the cookie (with a store, sessions stay on the server and the cookie holds only a random id)`,
        );
      }
    }
  }
  const secrets = store ? undefined : checkSecrets(options);
  const compression = checkCompression(options.compression);
  if (compression !== undefined && encoder !== undefined) {
    throw new TypeError(
      "session(): compression works on the built-in iron seal; a custom encoder can compress inside its own encode() and decode(): remove one of the two options",
    );
  }
  const maxChunks = checkChunks(options.cookieChunks);
  const migrateFrom = checkMigrateFrom(
    options.migrateFrom,
    !store && secrets === undefined,
  );
  const maxAge = checkMaxAge(
    options.maxAge ?? 24 * 60 * 60,
    "session(): maxAge",
  );
  const idleMs = checkOptionalSeconds(
    options.idleTimeout,
    "session(): idleTimeout",
  );
  const absoluteMs = checkOptionalSeconds(
    options.absoluteTimeout,
    "session(): absoluteTimeout",
  );
  // An unchanged session is written back once touchFraction of the idle
  // window has passed since the last write. Above one half, requests just
  // over half the window apart never trigger that write in time.
  const touchFraction = options.touchFraction ?? 0.1;
  if (
    typeof touchFraction !== "number" || !(touchFraction > 0) ||
    touchFraction > 0.5
  ) {
    throw new RangeError(
      `session(): touchFraction must be a number above 0 and at most 0.5; got ${
        show(touchFraction)
      }. Above 0.5, a user whose requests come just over half of idleTimeout apart is signed out despite the activity (at 1, reading never moves the deadline)`,
    );
  }
  const persistent = options.persistent ?? true;
  if (typeof persistent !== "boolean") {
    throw new TypeError(
      `session(): persistent must be true (cookies carry Max-Age and outlive the browser) or false (browser-session cookies); got ${
        show(persistent)
      }`,
    );
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== "function") {
    throw new TypeError("session(): onEvent must be a function");
  }
  const cookieName = checkName(options.cookieName ?? "sid", "cookieName");
  const existsCookieName = checkName(
    options.existsCookieName ?? "sx",
    "existsCookieName",
  );
  const cookieOptions: CookieAttributes = {
    ...COOKIE_DEFAULTS,
    ...checkCookieOptions(options.cookieOptions, "cookieOptions"),
  };
  // httpOnly last: the exists cookie is for scripts to read, whatever
  // existsCookieOptions says.
  const existsCookieOptions: CookieAttributes = {
    ...cookieOptions,
    ...checkCookieOptions(options.existsCookieOptions, "existsCookieOptions"),
    httpOnly: false,
  };
  checkCookie(cookieName, "cookieName", cookieOptions, "cookieOptions");
  checkCookie(
    existsCookieName,
    "existsCookieName",
    existsCookieOptions,
    "existsCookieOptions",
  );
  const pair = cookiePair(
    cookieName,
    cookieOptions,
    existsCookieName,
    existsCookieOptions,
  );
  const { wireName, existsWireName } = pair;
  if (wireName === existsWireName) {
    throw new TypeError(
      `session(): cookieName and existsCookieName must differ; both are "${cookieName}"`,
    );
  }
  if (maxChunks !== undefined && isChunkName(existsWireName, wireName)) {
    throw new TypeError(
      `session(): existsCookieName "${existsWireName}" is the name of one of the session cookie's chunks (cookieChunks); choose another name`,
    );
  }
  return Object.freeze({
    store,
    encoder,
    secrets: secrets && Object.freeze(secrets),
    compression,
    maxAge,
    idleMs,
    touchMs: idleMs * touchFraction,
    absoluteMs,
    onEvent: options.onEvent,
    cookies: maxChunks === undefined
      ? plainCookies(pair)
      : chunkedCookies(pair, cookieName, cookieOptions, maxChunks),
    persistent,
    cookieOptions: Object.freeze(cookieOptions),
    migrateFrom,
  });
}
