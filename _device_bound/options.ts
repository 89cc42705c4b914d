// The deviceBound option, checked once when session() is called: store
// mode with a store that moves sessions in one checked step, a lifetime, a
// challenge timeout, two paths the session cookie reaches, the algorithms.
import type { DeviceBoundOptions } from "../session_device_bound_options.ts";
import type { CookieAttributes } from "../_http/cookies.ts";
import { checkMaxAge, type ResolvedOptions } from "../_core/options.ts";
import { type Algorithm, ALGORITHMS } from "./proof.ts";
import { isPlainString } from "./headers.ts";

/** The deviceBound option with every default filled in. */
export interface DeviceBoundSettings {
  /** How long the session cookie is accepted after the last proof, in ms. */
  readonly lifetimeMs: number;
  /** How long a challenge may be answered, in ms. */
  readonly challengeMs: number;
  readonly registrationPath: string;
  readonly refreshPath: string;
  readonly algorithms: readonly Algorithm[];
  /** The session cookie as the session config names it: its wire name. */
  readonly cookieName: string;
  /** The cookie's attributes as the session config lists them. */
  readonly cookieAttributes: string;
}

const KEYS: Record<keyof DeviceBoundOptions, true> = {
  lifetime: true,
  challengeTimeout: true,
  registrationPath: true,
  refreshPath: true,
  algorithms: true,
};

// A path of URL characters: no quote, backslash, space, query, fragment or
// percent-escape (it goes into a structured header as it is, and must
// equal the request's decoded path).
const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;

function within(path: string, cookiePath: string): boolean {
  if (cookiePath === "/" || path === cookiePath) return true;
  const base = cookiePath.endsWith("/") ? cookiePath : `${cookiePath}/`;
  return path.startsWith(base);
}

function checkPath(
  value: unknown,
  fallback: string,
  option: string,
  cookiePath: string,
): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !PATH.test(value) || !isPlainString(value)) {
    throw new TypeError(
      `session(): deviceBound.${option} must be a path starting with "/" made of URL characters (no query, fragment, percent-escape, space or quote); got ${
        JSON.stringify(value)
      }`,
    );
  }
  if (!within(value, cookiePath)) {
    throw new TypeError(
      `session(): deviceBound.${option} "${value}" is outside the session cookie's path "${cookiePath}", so the browser would not send the cookie there; choose a path under it`,
    );
  }
  return value;
}

function checkAlgorithms(value: unknown): readonly Algorithm[] {
  if (value === undefined) return ALGORITHMS;
  if (
    !Array.isArray(value) || value.length === 0 ||
    !value.every((a) => ALGORITHMS.includes(a)) ||
    new Set(value).size !== value.length
  ) {
    throw new TypeError(
      `session(): deviceBound.algorithms must list "ES256", "RS256" or both, once each; got ${
        JSON.stringify(value)
      }`,
    );
  }
  return Object.freeze([...value]);
}

// The session config's credential attributes: what a browser compares to
// decide the cookie is there (Domain, Path, Secure, HttpOnly, SameSite).
function attributes(a: CookieAttributes): string {
  const parts = [`Path=${a.path ?? "/"}`];
  if (a.domain) parts.push(`Domain=${a.domain}`);
  if (a.secure !== false || a.prefix !== undefined) parts.push("Secure");
  if (a.httpOnly !== false) parts.push("HttpOnly");
  if (a.sameSite) parts.push(`SameSite=${a.sameSite}`);
  return parts.join("; ");
}

/**
 * Checks `value` (the deviceBound option) against the other options,
 * already resolved, and returns its settings, or undefined when it is off.
 * Throws a TypeError or RangeError saying what to change.
 */
export function resolveDeviceBound(
  value: unknown,
  resolved: ResolvedOptions,
): DeviceBoundSettings | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true) {
    const proto = value !== null && typeof value === "object"
      ? Object.getPrototypeOf(value)
      : undefined;
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(
        "session(): deviceBound must be true, false or an options object such as { lifetime: 600 }",
      );
    }
    for (const key of Object.getOwnPropertyNames(value)) {
      if (!Object.hasOwn(KEYS, key)) {
        throw new TypeError(
          `session(): unknown option "deviceBound.${key}"; deviceBound takes ${
            Object.keys(KEYS).join(", ")
          }`,
        );
      }
    }
  }
  const { store, cookieOptions } = resolved;
  const wireName = resolved.cookies.wireName;
  if (store === undefined) {
    throw new TypeError(
      "session(): deviceBound needs a store. A device-bound session ends on the server as soon as its device stops proving it holds the key, and a cookie-mode session cannot be ended on the server (a copy of the cookie stays valid until maxAge). Give session() a store (MemoryStore, DenoKvStore, RedisStore, SqlStore), or leave deviceBound out",
    );
  }
  if (typeof store.replace !== "function") {
    throw new TypeError(
      "session(): deviceBound needs a store with replace() (MemoryStore, DenoKvStore, RedisStore, SqlStore): each refresh moves the session to a new id, and a challenge must be answered only once, which takes checked writes. A Map or UnstorageStore cannot; see SECURITY.md for what a store of your own needs",
    );
  }
  if (cookieOptions.partitioned) {
    throw new TypeError(
      "session(): deviceBound cannot bind a Partitioned cookie (browsers refuse it as a DBSC credential); remove partitioned from cookieOptions",
    );
  }
  const options = (value === true ? {} : value) as DeviceBoundOptions;
  const lifetime = options.lifetime === undefined
    ? 600
    : checkMaxAge(options.lifetime, "session(): deviceBound.lifetime");
  const challenge = options.challengeTimeout === undefined ? 60 : checkMaxAge(
    options.challengeTimeout,
    "session(): deviceBound.challengeTimeout",
  );
  if (challenge > 3600) {
    throw new RangeError(
      `session(): deviceBound.challengeTimeout must be at most 3600 seconds (a challenge is answered at once); got ${challenge}`,
    );
  }
  const cookiePath = cookieOptions.path ?? "/";
  const base = `${
    cookiePath.endsWith("/") ? cookiePath : `${cookiePath}/`
  }__dbsc/${wireName.replace(/[^A-Za-z0-9._~-]/g, "-")}`;
  const registrationPath = checkPath(
    options.registrationPath,
    `${base}/register`,
    "registrationPath",
    cookiePath,
  );
  const refreshPath = checkPath(
    options.refreshPath,
    `${base}/refresh`,
    "refreshPath",
    cookiePath,
  );
  if (registrationPath === refreshPath) {
    throw new TypeError(
      `session(): deviceBound.registrationPath and refreshPath must differ; both are "${registrationPath}"`,
    );
  }
  return Object.freeze({
    lifetimeMs: lifetime * 1000,
    challengeMs: challenge * 1000,
    registrationPath,
    refreshPath,
    algorithms: checkAlgorithms(options.algorithms),
    cookieName: wireName,
    cookieAttributes: attributes(cookieOptions),
  });
}
