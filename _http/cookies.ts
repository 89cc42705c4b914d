// Reading the session cookie from a request and writing both cookies back.
import type { Context } from "hono";
import { generateCookie } from "hono/cookie";
import { parse } from "hono/utils/cookie";
import type { SessionCookieOptions } from "../session_cookie_options.ts";

/**
 * Cookie attributes as handed to Hono, checked (no attribute is present but
 * undefined), Max-Age left to the middleware.
 */
export type CookieAttributes =
  & {
    [K in keyof SessionCookieOptions]?: Exclude<
      SessionCookieOptions[K],
      undefined
    >;
  }
  & { maxAge?: number };

/** Browsers keep at most 4096 bytes of name and value per cookie. */
export const COOKIE_LIMIT = 4096;

function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

// Counts the cookie pairs in `header` whose name is exactly `name`.
function countPairs(header: string, name: string): number {
  let count = 0;
  for (
    let i = header.indexOf(name);
    i !== -1;
    i = header.indexOf(name, i + 1)
  ) {
    let before = i - 1;
    while (before >= 0 && isBlank(header.charCodeAt(before))) before--;
    if (before >= 0 && header[before] !== ";") continue;
    let after = i + name.length;
    while (after < header.length && isBlank(header.charCodeAt(after))) after++;
    if (header[after] === "=") count++;
  }
  return count;
}

/**
 * The value of the cookie `name`, or undefined when it is absent, sent more
 * than once (another site or path may have planted a second one), or too
 * long to be a cookie this middleware wrote.
 */
export function readCookie(
  c: Context,
  name: string,
  refuse?: (reason: Refusal) => void,
): string | undefined {
  const header = c.req.raw.headers.get("cookie");
  if (!header || !header.includes(name)) return undefined;
  const value = parse(header, name)[name];
  if (value === undefined || value.length === 0) {
    // Present but unreadable (empty, or not a valid cookie value).
    if (countPairs(header, name) > 0) refuse?.("malformed");
    return undefined;
  }
  if (name.length + value.length > COOKIE_LIMIT) {
    refuse?.("oversized");
    return undefined;
  }
  if (countPairs(header, name) !== 1) {
    refuse?.("duplicate");
    return undefined;
  }
  return value;
}

/**
 * A cookie's Set-Cookie line, split around its value and Max-Age. Made once
 * per middleware by Hono's own cookie serializer, so every attribute (and
 * prefix) is exactly as Hono writes it; each response then only fills in
 * the value and the lifetime.
 */
export interface CookieTemplate {
  /** `name=`, prefix included. */
  head: string;
  /** The attributes after Max-Age: `; Path=/; HttpOnly; ...`. */
  tail: string;
}

/** Builds the template for cookie `name` with these attributes. */
export function cookieTemplate(
  name: string,
  attributes: CookieAttributes,
): CookieTemplate {
  const sample = generateCookie(name, "", { ...attributes, maxAge: 0 });
  const marker = "; Max-Age=0";
  const at = sample.indexOf(marker);
  if (at === -1 || !sample.startsWith(`${prefixed(name, attributes)}=;`)) {
    throw new TypeError(
      `hono's cookie serializer wrote an unexpected line for "${name}": ${sample}`,
    );
  }
  return {
    head: sample.slice(0, sample.indexOf("=") + 1),
    tail: sample.slice(at + marker.length),
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

/** The two cookies of one middleware: the session cookie and the exists cookie. */
export interface CookiePair {
  /** The session cookie's name on the wire, prefix included. */
  readonly wireName: string;
  /** The exists cookie's name on the wire, prefix included. */
  readonly existsWireName: string;
  readonly session: CookieTemplate;
  readonly exists: CookieTemplate;
}

/**
 * What a request carried of the session cookie: its value, if well formed,
 * and which of its names it sent (a bit set only chunked cookies use, to
 * expire what they no longer need).
 */
export interface CookieRead {
  value: string | undefined;
  names: number;
}

/** Why a session cookie was refused. */
export type Refusal = "oversized" | "duplicate" | "malformed";

/**
 * How one middleware's session cookie travels: in one cookie (here), or
 * spread over several (`_http/chunks.ts`). Chosen once, with the options;
 * the request reads, writes and clears through it without asking which.
 */
export interface SessionCookies extends CookiePair {
  /** The session cookie's value from the request, and the names it came in. */
  read(c: Context, refuse?: (reason: Refusal) => void): CookieRead;
  /**
   * Sets the session cookie and the exists cookie for `seconds`, or until
   * the browser closes when `seconds` is undefined; `carried` is what
   * `read` found. `sessionSeconds`, if given, is the session cookie's own
   * lifetime (a device-bound session's cookie lasts less than the session).
   * Returns the session cookie's size as browsers count it: name and value,
   * summed over its chunks.
   */
  write(
    c: Context,
    value: string,
    seconds: number | undefined,
    carried: number,
    sessionSeconds?: number,
  ): number;
  /** Expires every name the session cookie may use, and the exists cookie. */
  clear(c: Context, carried: number): void;
  /** Whether `name` is one of this middleware's cookie names. */
  uses(name: string): boolean;
}

/** Builds the pair once, when the middleware is created. */
export function cookiePair(
  name: string,
  attributes: CookieAttributes,
  existsName: string,
  existsAttributes: CookieAttributes,
): CookiePair {
  return Object.freeze({
    wireName: prefixed(name, attributes),
    existsWireName: prefixed(existsName, existsAttributes),
    session: Object.freeze(cookieTemplate(name, attributes)),
    exists: Object.freeze(cookieTemplate(existsName, existsAttributes)),
  });
}

/**
 * A Set-Cookie line from a template: `seconds` 0 expires the cookie;
 * without `seconds`, a browser-session cookie (no Max-Age, no Expires).
 */
export function line(
  t: CookieTemplate,
  value: string,
  seconds: number | undefined,
): string {
  return seconds === undefined
    ? `${t.head}${value}${t.tail}`
    : `${t.head}${value}; Max-Age=${seconds}${t.tail}`;
}

/**
 * Adds the Set-Cookie lines (at least one), and Cache-Control: a response
 * that sets or clears the session cookie must not be stored by a shared
 * cache and served to someone else; an app that set its own Cache-Control
 * has decided for itself. Hono's c.header() makes the response this
 * request's own copy first (a handler may have returned a shared
 * Response); the other headers then go on that copy directly.
 */
export function emit(c: Context, lines: readonly string[]): void {
  c.header("Set-Cookie", lines[0]!, { append: true });
  const headers = c.res.headers;
  for (let i = 1; i < lines.length; i++) {
    headers.append("Set-Cookie", lines[i]!);
  }
  if (!headers.has("cache-control")) {
    headers.set("Cache-Control", "private, no-store");
  }
}

/** The session cookie in one cookie of at most 4096 bytes. */
export function plainCookies(pair: CookiePair): SessionCookies {
  return Object.freeze({
    ...pair,
    read(c: Context, refuse?: (reason: Refusal) => void): CookieRead {
      return { value: readCookie(c, pair.wireName, refuse), names: 0 };
    },
    write(
      c: Context,
      value: string,
      seconds: number | undefined,
      _carried?: number,
      sessionSeconds?: number,
    ): number {
      const encoded = encodeURIComponent(value);
      const size = pair.wireName.length + encoded.length;
      if (size > COOKIE_LIMIT) {
        throw new RangeError(
          `session cookie "${pair.wireName}" would be ${size} bytes, over the ${COOKIE_LIMIT}-byte limit browsers keep; store less in the session, or use a store so the cookie holds only an id, or let it grow past one cookie with the compression and cookieChunks options`,
        );
      }
      emit(c, [
        line(pair.session, encoded, sessionSeconds ?? seconds),
        line(pair.exists, "1", seconds),
      ]);
      return size;
    },
    clear(c: Context): void {
      emit(c, [line(pair.session, "", 0), line(pair.exists, "", 0)]);
    },
    uses(name: string): boolean {
      return name === pair.wireName || name === pair.existsWireName;
    },
  });
}
