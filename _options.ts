// Checks the options given to session() and fills in the defaults, so that
// every mistake surfaces when the middleware is created.
import { generateCookie } from "hono/cookie";
import type { Encoder } from "./encoder.ts";
import type { SessionCookieOptions } from "./session_cookie_options.ts";
import type { SessionOptions } from "./session_options.ts";
import type { SessionStore } from "./session_store.ts";
import type { SessionEvent } from "./session_event.ts";
import type { Context } from "hono";
import { Keyring } from "./_secrets.ts";
import { type CookieTemplate, cookieTemplate } from "./_cookie.ts";
import { Lru } from "./_lru.ts";
import type { SessionRecord } from "./session_store.ts";

/** Cookie values seen verified, and what they hold. */
export interface VerifiedCookie {
  record: SessionRecord;
  /** The JSON of `record.data`. */
  json: string;
  /** `json` parsed, once, read by requests but never written. */
  parsed?: Record<string, unknown>;
  keyIndex: number;
}

/** How many verified cookies, and id hashes, one middleware remembers. */
export const CACHE_LIMIT = 10_000;

/** The longest lifetime a browser honours for a cookie: 400 days. */
export const MAX_AGE_LIMIT = 400 * 24 * 60 * 60;
/** The fewest characters a secret may have. */
export const MIN_SECRET_LENGTH = 32;

/** Cookie attributes as handed to Hono, Max-Age left to the middleware. */
export type CookieAttributes = SessionCookieOptions & { maxAge?: number };

/** The options after checking, with every default filled in. */
export interface ResolvedOptions {
  store: SessionStore | undefined;
  /** A custom encoder, or undefined for the built-in iron seals. */
  encoder: Encoder | undefined;
  /** The cookie-mode keys, bound to this middleware's cookie. */
  keys: Keyring;
  /** Seconds. */
  maxAge: number;
  /** Milliseconds, or Infinity when off. */
  idleMs: number;
  /** Milliseconds between idle write-backs of an unchanged session. */
  touchMs: number;
  /** Milliseconds, or Infinity when off. */
  absoluteMs: number;
  onEvent: ((event: SessionEvent, c: Context) => void) | undefined;
  /** Cookie mode: cookie values already verified, by exact value. */
  verified: Lru<string, VerifiedCookie>;
  /** Store mode: the store keys of ids the store knows, or that we issued. */
  storeKeys: Lru<string, string>;
  /** The Set-Cookie lines, but for value and Max-Age. */
  sessionCookie: CookieTemplate;
  existsCookie: CookieTemplate;
  /** The session cookie's name on the wire, prefix included. */
  wireName: string;
  /** The exists cookie's name on the wire, prefix included. */
  existsWireName: string;
}

const COOKIE_DEFAULTS: SessionCookieOptions = {
  httpOnly: true,
  secure: true,
  path: "/",
  sameSite: "Lax",
};

// RFC 6265 cookie-name characters (an HTTP token).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Throws a RangeError unless `maxAge` is a usable session lifetime in seconds. */
export function checkMaxAge(maxAge: unknown, what: string): number {
  if (
    typeof maxAge !== "number" || !Number.isFinite(maxAge) || maxAge <= 0 ||
    maxAge > MAX_AGE_LIMIT
  ) {
    throw new RangeError(
      `${what} must be a number of seconds above 0 and at most ${MAX_AGE_LIMIT} (400 days); got ${
        String(maxAge)
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

function checkCookieOptions(
  value: unknown,
  option: string,
): SessionCookieOptions {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`session(): ${option} must be an object`);
  }
  for (const key of ["maxAge", "expires"]) {
    if (key in value) {
      throw new TypeError(
        `session(): ${option}.${key} is not supported: the cookie's lifetime follows the session; set the maxAge option instead`,
      );
    }
  }
  const prefix = (value as SessionCookieOptions).prefix;
  if (prefix !== undefined && prefix !== "host" && prefix !== "secure") {
    throw new TypeError(
      `session(): ${option}.prefix must be "host" or "secure"; got ${
        JSON.stringify(prefix)
      }`,
    );
  }
  return value as SessionCookieOptions;
}

// Hono's cookie helper enforces the prefix and attribute rules when it
// writes a cookie; run it once now so a bad combination fails at creation.
function checkCookie(
  name: string,
  attributes: CookieAttributes,
  option: string,
): void {
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
  if (store === undefined || store === null) return undefined;
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

// No secret: undefined, and the key ring draws a random one on first use,
// inside a request (Cloudflare Workers forbid random values at start-up,
// where apps usually create their middleware).
function checkSecrets(secret: unknown): string[] | undefined {
  if (secret === undefined) return undefined;
  const list = Array.isArray(secret) ? secret : [secret];
  if (list.length === 0) {
    throw new TypeError(
      "session(): secret is an empty list; give at least one secret, newest first",
    );
  }
  list.forEach((entry, i) => {
    const what = Array.isArray(secret) ? `secret[${i}]` : "secret";
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
  return list;
}

function checkOptionalSeconds(value: unknown, what: string): number {
  return value === undefined ? Infinity : checkMaxAge(value, what) * 1000;
}

/** Checks `options` and returns them with every default in place. */
export function resolveOptions(options: SessionOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== "object") {
    throw new TypeError("session(): options must be an object");
  }
  const store = checkStore(options.store);
  const encoder = checkEncoder(options.encoder);
  const secrets = checkSecrets(options.secret);
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
  const touchFraction = options.touchFraction ?? 0.1;
  if (
    typeof touchFraction !== "number" || !(touchFraction > 0) ||
    touchFraction > 1
  ) {
    throw new RangeError(
      `session(): touchFraction must be a number above 0 and at most 1; got ${
        String(touchFraction)
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
  const existsCookieOptions: CookieAttributes = {
    ...cookieOptions,
    ...checkCookieOptions(options.existsCookieOptions, "existsCookieOptions"),
    httpOnly: false,
  };
  checkCookie(cookieName, cookieOptions, "cookieOptions");
  checkCookie(existsCookieName, existsCookieOptions, "existsCookieOptions");
  if (
    prefixed(cookieName, cookieOptions) ===
      prefixed(existsCookieName, existsCookieOptions)
  ) {
    throw new TypeError(
      `session(): cookieName and existsCookieName must differ; both are "${cookieName}"`,
    );
  }
  const wireName = prefixed(cookieName, cookieOptions);
  return {
    store,
    encoder,
    keys: new Keyring(secrets, `cookie:${wireName}`),
    maxAge,
    idleMs,
    touchMs: idleMs * touchFraction,
    absoluteMs,
    onEvent: options.onEvent,
    verified: new Lru(CACHE_LIMIT),
    storeKeys: new Lru(CACHE_LIMIT),
    sessionCookie: cookieTemplate(cookieName, cookieOptions),
    existsCookie: cookieTemplate(existsCookieName, existsCookieOptions),
    wireName,
    existsWireName: prefixed(existsCookieName, existsCookieOptions),
  };
}

/** The name a cookie really has on the wire, prefix included. */
export function prefixed(name: string, attributes: CookieAttributes): string {
  return attributes.prefix === "host"
    ? `__Host-${name}`
    : attributes.prefix === "secure"
    ? `__Secure-${name}`
    : name;
}
