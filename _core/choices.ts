// What a handler chooses for one session beyond its values, at sign-in
// (`regenerate(options)`) or later (`renew(maxAge, options)`): whether its
// cookies outlive the browser, and which user it belongs to. Checked here,
// where the handler calls, so a mistake throws in the handler.
import type { RegenerateOptions } from "../session.ts";

/** The longest user id a session can be tied to. */
export const USER_ID_LIMIT = 512;

// A lone surrogate (drivers store it as U+FFFD, so two user ids would share
// one index entry) or a NUL (PostgreSQL refuses it in text).
const UNSTORABLE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\0/;

/**
 * Returns `user` if it can be a user id: a string of 1 to
 * {@linkcode USER_ID_LIMIT} characters that every store keeps exactly.
 * Else throws a TypeError that starts with `where`.
 */
export function checkUserId(user: unknown, where: string): string {
  if (
    typeof user !== "string" || user.length === 0 ||
    user.length > USER_ID_LIMIT
  ) {
    throw new TypeError(
      `${where}: user must be a string of 1 to ${USER_ID_LIMIT} characters (the user's id); got ${
        typeof user === "string" ? `${user.length} characters` : typeof user
      }`,
    );
  }
  if (UNSTORABLE.test(user)) {
    throw new TypeError(
      `${where}: user must be well-formed text without NUL characters (a lone surrogate or a NUL would not be stored exactly)`,
    );
  }
  return user;
}

/** Choices checked: each one given, or undefined for "unchanged". */
export interface Choices {
  persistent: boolean | undefined;
  user: string | undefined;
}

const NONE: Choices = Object.freeze({
  persistent: undefined,
  user: undefined,
});

/**
 * Checks the options of `regenerate()` (`allowUser`) or `renew()`.
 * Throws a TypeError naming what to change.
 */
export function checkChoices(
  given: unknown,
  method: "regenerate" | "renew",
  storeMode: boolean,
): Choices {
  if (given === undefined) return NONE;
  const where = `c.session.${method}()`;
  const proto = given !== null && typeof given === "object"
    ? Object.getPrototypeOf(given)
    : undefined;
  if (
    (proto !== Object.prototype && proto !== null) ||
    Object.getOwnPropertySymbols(given as object).length > 0
  ) {
    throw new TypeError(
      `${where}: options must be a plain object such as { persistent: true }`,
    );
  }
  const allowed = method === "regenerate"
    ? ["persistent", "user"]
    : ["persistent"];
  // Own data properties only: nothing inherited, no getters.
  const own: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(given)) {
    if (!allowed.includes(key)) {
      throw new TypeError(
        `${where}: unknown option "${key}"; the options are ${
          allowed.join(", ")
        }${
          key === "user"
            ? " (tie the user at sign-in, with regenerate({ user }))"
            : ""
        }`,
      );
    }
    const descriptor = Object.getOwnPropertyDescriptor(given, key)!;
    if (!("value" in descriptor)) {
      throw new TypeError(`${where}: option "${key}" must be a plain value`);
    }
    own[key] = descriptor.value;
  }
  const { persistent, user } = own as RegenerateOptions;
  if (persistent !== undefined && typeof persistent !== "boolean") {
    throw new TypeError(
      `${where}: persistent must be true (cookies outlive the browser) or false (browser-session cookies); got ${typeof persistent}`,
    );
  }
  if (user !== undefined) {
    if (!storeMode) {
      throw new TypeError(
        `${where}: a session can be tied to a user only in store mode; in cookie mode nothing on the server could list or revoke it. Give session() a store, or leave user out`,
      );
    }
    checkUserId(user, where);
  }
  return { persistent, user };
}
