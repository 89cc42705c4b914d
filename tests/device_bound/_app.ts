// The app the device-bound tests drive: sign-in (regenerate), a page that
// shows who is signed in, a write, renew, a second regenerate, sign-out,
// and the user's sessions. Events are collected.
import { Hono } from "hono";
import {
  session,
  SessionConflictError,
  type SessionEvent,
  type SessionOptions,
  userSessions,
} from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import type { Fetcher } from "../../_testing/jar.ts";
import { isLifecycle, type SetCookie, setCookies } from "../_helpers.ts";

export interface DeviceApp {
  app: Fetcher;
  store: MemoryStore;
  events: SessionEvent[];
  /** The events seen so far, as "type:step/reason" strings. */
  names(): string[];
}

/** An app on a MemoryStore with `deviceBound` (and `extra` options). */
export function deviceApp(
  deviceBound: SessionOptions["deviceBound"] = { lifetime: 60 },
  extra: SessionOptions = {},
  store: MemoryStore = new MemoryStore({ sweepInterval: 0 }),
): DeviceApp {
  const events: SessionEvent[] = [];
  const sessions = userSessions(store);
  const app = new Hono()
    .use(session<{ userId?: string; n?: number }>({
      store,
      deviceBound,
      // The protocol's events and refusals; not the routine lifecycle
      // events that come with every write.
      onEvent: (e) => void (!isLifecycle(e) && events.push(e)),
      ...extra,
    }))
    .post("/login", (c) => {
      const user = c.req.query("user") ?? "ada";
      c.session.regenerate({ user });
      c.session.userId = user;
      return c.text("ok");
    })
    .get("/me", (c) => c.text(c.session.userId ?? "-"))
    .post("/write", (c) => {
      c.session.n = (c.session.n ?? 0) + 1;
      return c.text(String(c.session.n));
    })
    .post("/renew", (c) => {
      c.session.renew(Number(c.req.query("maxAge") ?? "3600"));
      return c.text("ok");
    })
    .post("/regenerate", (c) => {
      c.session.regenerate();
      return c.text("ok");
    })
    .post("/logout", (c) => {
      c.session = null;
      return c.text("bye");
    })
    .get("/sessions", async (c) => {
      const user = c.session.userId;
      return user ? c.json(await sessions.list(user, c)) : c.json([]);
    });
  app.onError((err, c) =>
    err instanceof SessionConflictError
      ? c.text(err.message, 409)
      : c.text(`${err.name}: ${err.message}`, 500)
  );
  return {
    app,
    store,
    events,
    names: () =>
      events.map((e) => {
        const r = e as Record<string, unknown>;
        return [r.type, r.step, r.reason].filter((x) => x !== undefined)
          .join(":");
      }),
  };
}

/** The Set-Cookie lines of a response (parsed by setCookies()), by name. */
export function cookiesOf(res: Response): Map<string, SetCookie> {
  return new Map(setCookies(res).map((cookie) => [cookie.name, cookie]));
}
