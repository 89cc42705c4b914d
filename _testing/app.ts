// The Hono app the conformance kit drives a store through, and a fresh
// request context for calling a store directly.
import { type Context, Hono } from "hono";
import {
  session,
  SessionConflictError,
  type SessionOptions,
  userSessions,
} from "../mod.ts";
import type { Fetcher } from "./jar.ts";

/** A held `/slow` request: it has loaded its session and waits for `release()`. */
export interface Held {
  /** Settles once the held request has loaded its session. */
  reached: Promise<void>;
  /** Lets the held request go on. */
  release(): void;
}

/** The app and the lever that holds its next `/slow` request. */
export interface TestApp {
  app: Fetcher;
  /** Holds the next `/slow` request after it has loaded its session. */
  hold(): Held;
}

/** The big value the `/big` route saves: about 31 KB of JSON. */
export const BIG: { text: string; items: number[] } = {
  text: "é".repeat(20_000) + "x".repeat(10_000),
  items: Array.from({ length: 500 }, (_, i) => i),
};

/**
 * An app with the session middleware over `options` and routes that read,
 * write, regenerate and end the session, and list and revoke the signed-in
 * user's sessions. A conflict answers 409, any other error 500 with its
 * message.
 */
export function testApp(options: SessionOptions): TestApp {
  let arrive = (): void => {};
  let wait: Promise<void> = Promise.resolve();
  // The signed-in user's sessions, made on first use: a store without
  // listUser is refused by userSessions().
  const sessionsOf = (c: Context) => {
    const user = (c.get("session") as unknown as Record<string, unknown>)
      .userId;
    if (typeof user !== "string") throw new Error("not signed in");
    return { user, sessions: userSessions(options.store!) };
  };
  const app = new Hono()
    .use(session<Record<string, unknown>>(options))
    .get("/read", (c) => c.text(String(c.session.userId ?? "-")))
    .get("/all", (c) => c.json({ ...c.session }))
    .post("/login", (c) => {
      c.session.userId = c.req.query("user") ?? "ada";
      return c.text("ok");
    })
    .post("/logout", (c) => {
      c.session = null;
      return c.text("bye");
    })
    .post("/count", (c) => {
      const n = (typeof c.session.n === "number" ? c.session.n : 0) + 1;
      c.session.n = n;
      return c.text(String(n));
    })
    .post("/set", (c) => {
      for (const [k, v] of Object.entries(c.req.query())) c.session[k] = v;
      return c.text("ok");
    })
    .post("/regenerate", (c) => {
      c.session.regenerate();
      return c.text("ok");
    })
    // Signs in as ?user, tied to that user.
    .post("/signin", (c) => {
      const user = c.req.query("user") ?? "ada";
      c.session.regenerate({ user });
      c.session.userId = user;
      return c.text("ok");
    })
    .get("/sessions", async (c) => {
      const { user, sessions } = sessionsOf(c);
      return c.json(await sessions.list(user, c));
    })
    .post("/revoke", async (c) => {
      const { user, sessions } = sessionsOf(c);
      return c.text(
        String(await sessions.revoke(user, c.req.query("handle")!)),
      );
    })
    .post("/revoke-others", async (c) => {
      const { user, sessions } = sessionsOf(c);
      return c.text(String(await sessions.revokeAll(user, { except: c })));
    })
    .post("/big", (c) => {
      c.session.big = BIG;
      return c.text("ok");
    })
    .get("/big", (c) => c.json(c.session.big ?? null))
    // Loads the session, waits to be released, then writes the query's
    // values (and regenerates with ?regenerate, signs out with ?logout).
    .post("/slow", async (c) => {
      void c.session.userId;
      arrive();
      await wait;
      const { regenerate, logout, ...values } = c.req.query();
      if (logout !== undefined) {
        c.session = null;
        return c.text("bye");
      }
      if (regenerate !== undefined) c.session.regenerate();
      for (const [k, v] of Object.entries(values)) c.session[k] = v;
      return c.text("ok");
    });
  app.onError((err, c) =>
    err instanceof SessionConflictError
      ? c.text(err.message, 409)
      : c.text(`${err.name}: ${err.message}`, 500)
  );
  return {
    app,
    hold(): Held {
      let release!: () => void;
      wait = new Promise<void>((resolve) => release = resolve);
      const reached = new Promise<void>((resolve) => arrive = resolve);
      return { reached, release };
    },
  };
}

/** A fresh Hono context: one request, as a store sees it. */
export async function aContext(): Promise<Context> {
  let captured: Context | undefined;
  await new Hono().get("/", (c) => {
    captured = c;
    return c.text("");
  }).request("/");
  return captured!;
}
