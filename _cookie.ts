// Reading the session cookie from a request and writing both cookies back.
import type { Context } from "hono";
import { setCookie } from "hono/cookie";
import { parse } from "hono/utils/cookie";
import type { CookieAttributes, ResolvedOptions } from "./_options.ts";

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
  refuse?: (reason: "oversized" | "duplicate" | "malformed") => void,
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

// A response that sets or clears the session cookie must not be stored by
// a shared cache and served to someone else. An app that set its own
// Cache-Control has decided for itself.
function noStore(c: Context): void {
  if (!c.res.headers.has("cache-control")) {
    c.header("Cache-Control", "private, no-store");
  }
}

/** Sets the session cookie and the exists cookie for `seconds`. */
export function writeCookies(
  c: Context,
  options: ResolvedOptions,
  value: string,
  seconds: number,
): void {
  const size = options.wireName.length + encodeURIComponent(value).length;
  if (size > COOKIE_LIMIT) {
    throw new RangeError(
      `session cookie "${options.wireName}" would be ${size} bytes, over the ${COOKIE_LIMIT}-byte limit browsers keep; store less in the session, or use a store so the cookie holds only an id`,
    );
  }
  setCookie(c, options.cookieName, value, at(options.cookieOptions, seconds));
  setCookie(
    c,
    options.existsCookieName,
    "1",
    at(options.existsCookieOptions, seconds),
  );
  noStore(c);
}

/** Expires both cookies in the browser. */
export function clearCookies(c: Context, options: ResolvedOptions): void {
  setCookie(c, options.cookieName, "", at(options.cookieOptions, 0));
  setCookie(
    c,
    options.existsCookieName,
    "",
    at(options.existsCookieOptions, 0),
  );
  noStore(c);
}

function at(attributes: CookieAttributes, maxAge: number): CookieAttributes {
  return { ...attributes, maxAge };
}
