// What the registration and refresh endpoints answer: on success the
// session config (JSON session instructions) with the session cookie set
// for the bound lifetime; on refusal a 4xx and nothing else; for a session
// that is over, `{"continue": false}` and both cookies cleared.
import type { Context } from "hono";
import type { SessionRecord, SessionStore } from "../session_store.ts";
import type { SessionEvent } from "../session_event.ts";
import type { ResolvedOptions } from "../_core/options.ts";
import type { StoreMode } from "../_store_mode/mode.ts";
import type { Bound } from "./binding.ts";
import type { DeviceBoundSettings } from "./options.ts";
import type { DeviceSessions } from "./sessions.ts";

/** What both endpoints work with. */
export interface Endpoint {
  options: ResolvedOptions;
  settings: DeviceBoundSettings;
  store: SessionStore;
  /** The store mode the middleware uses: ids, keys, loading by cookie. */
  inner: StoreMode;
  sessions: DeviceSessions;
}

/** Why a proof was refused, as events name it. */
export type Refusal = Extract<
  SessionEvent,
  { type: "device-proof-refused" }
>["reason"];

const NO_STORE = { "Cache-Control": "no-store" };

/** Reports `event` to the app's onEvent, if any. */
export function report(e: Endpoint, event: SessionEvent, c: Context): void {
  e.options.onEvent?.(event, c);
}

// The origin the request says it comes from, if it is one: the scope the
// session applies to. Left out, the browser takes the endpoint's origin,
// which is the same; behind a proxy the request URL may not be.
function originOf(c: Context): string | undefined {
  const origin = c.req.raw.headers.get("origin");
  if (origin === null) return undefined;
  try {
    const url = new URL(origin);
    return (url.protocol === "https:" || url.protocol === "http:") &&
        url.origin === origin
      ? origin
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A registration or refresh that succeeded: the session cookie (id
 * `token`) set until the next proof is due, the exists cookie for the
 * session's own lifetime, and the session config.
 */
export function granted(
  e: Endpoint,
  c: Context,
  token: string,
  record: SessionRecord,
  binding: Bound,
  step: "registered" | "refreshed",
): Response {
  const now = Date.now();
  const persistent = record.persistent ?? e.options.persistent;
  const seconds = persistent
    ? Math.max(1, Math.ceil((record.expires - now) / 1000))
    : undefined;
  // Rounded down: the cookie never outlives the server's acceptance.
  const bound = Math.max(
    1,
    Math.floor((Math.min(binding.until, record.expires) - now) / 1000),
  );
  e.options.cookies.write(c, token, seconds, 0, bound);
  report(e, { type: "device-bound", step }, c);
  const scope: Record<string, unknown> = {
    include_site: false,
    scope_specification: [],
  };
  const origin = originOf(c);
  if (origin !== undefined) scope.origin = origin;
  return c.json(
    {
      session_identifier: binding.id,
      refresh_url: e.settings.refreshPath,
      scope,
      credentials: [{
        type: "cookie",
        name: e.settings.cookieName,
        attributes: e.settings.cookieAttributes,
      }],
    },
    200,
    NO_STORE,
  );
}

/** A refused registration or refresh: `status` and a short reason, nothing else. */
export function refused(
  e: Endpoint,
  c: Context,
  step: "registration" | "refresh",
  reason: Refusal,
  status: 400 | 403,
  message: string,
  headers: Record<string, string> = {},
): Response {
  report(e, { type: "device-proof-refused", step, reason }, c);
  return c.text(message, status, { ...NO_STORE, ...headers });
}

/**
 * A refresh for a session that is over (signed out, revoked, expired):
 * the browser is told to stop refreshing, and both cookies are cleared.
 */
export function ended(e: Endpoint, c: Context): Response {
  e.options.cookies.clear(c, 0);
  report(e, { type: "device-bound", step: "ended" }, c);
  return c.json({ continue: false }, 200, NO_STORE);
}
