/**
 * A small app that shows the session middleware at work: sign in through a
 * form, see who you are, get a one-time notice after each redirect, count
 * your visits, sign out.
 *
 * Run it with `deno task demo`, then open http://localhost:8000.
 *
 * Environment:
 * - `PORT`: the port to listen on (default 8000).
 * - `SESSION_MODE`: `store` (default: sessions in an in-process Map) or
 *   `cookie` (sessions sealed into the cookie).
 * - `SESSION_SECRET`: the cookie-mode secret, 32 characters or more. Without
 *   it a random one is made, so sessions end when the demo restarts.
 *
 * @module
 */
import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { html } from "hono/html";
import { session, type SessionOptions } from "@x/hono-session";

interface DemoSession {
  userId?: string;
  visits?: number;
  notice?: string;
}

/** Builds the demo app with the given session options. */
export function demoApp(options: SessionOptions) {
  // Chained, so that the handlers see the session's type.
  return new Hono()
    .use(csrf())
    .use(session<DemoSession>(options))
    .get("/", (c) => {
      const s = c.session;
      s.visits = (s.visits ?? 0) + 1;
      const body = s.userId
        ? html`
          <p>Signed in as <strong id="user">${s.userId}</strong>.</p>
          <form method="post"
            action="/logout"><button id="logout">Sign out</button></form>
        `
        : html`
          <form method="post" action="/login">
            <label>Name <input id="name" name="name" required maxlength="40" autocomplete="username"></label>
            <button id="login">Sign in</button>
          </form>
        `;
      return c.html(html`
        <!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8">
            <title>hono-session demo</title>
            <style>body{font:16px system-ui;max-width:32rem;margin:3rem auto}
                .notice{background:#e8f5e9;padding:.5rem 1rem;border-radius:4px}</style>
          </head>
          <body>
                  <h1>hono-session demo</h1>
                  ${s.notice
                    ? html`<p class="notice" id="notice">${s.notice}</p>`
                    : ""}
                  ${body}
                  <p>Visits in this session: <span id="visits">${s
                    .visits}</span></p>
                </body>
        </html>
      `);
    })
    .post("/login", async (c) => {
      const form = await c.req.parseBody();
      const name = typeof form.name === "string"
        ? form.name.trim().slice(0, 40)
        : "";
      if (!name) {
        c.session.flash("notice", "Please enter a name.");
        return c.redirect("/", 303);
      }
      c.session.regenerate(); // a new id at every sign-in
      c.session.userId = name;
      c.session.flash("notice", `Welcome, ${name}!`);
      return c.redirect("/", 303);
    })
    .post("/logout", (c) => {
      c.session = null;
      c.session.flash("notice", "You are signed out.");
      return c.redirect("/", 303);
    })
    .get("/me", (c) => {
      const userId = c.session.userId;
      return userId
        ? c.json({ userId })
        : c.json({ error: "Unauthorised" }, 401);
    });
}

/** Reads the demo's settings from the environment. */
export function optionsFromEnv(
  env: { get(name: string): string | undefined },
): SessionOptions {
  const mode = env.get("SESSION_MODE") ?? "store";
  if (mode === "cookie") return { secret: env.get("SESSION_SECRET") };
  if (mode === "store") return { store: new Map() };
  throw new TypeError(
    `SESSION_MODE must be "store" or "cookie"; got "${mode}"`,
  );
}

if (import.meta.main) {
  const port = Number(Deno.env.get("PORT") ?? 8000);
  const options = optionsFromEnv(Deno.env);
  const app = demoApp(options);
  Deno.serve({
    port,
    hostname: "127.0.0.1",
    onListen: () =>
      console.log(
        `hono-session demo (${
          options.store ? "store" : "cookie"
        } mode) on http://localhost:${port}`,
      ),
  }, app.fetch);
}
