// The app every runtime serves, built only from the npm build of the
// package and hono from npm: the same code on Node, Bun and workerd.
import { Hono } from "hono";
import { session } from "@x/hono-session";
import { MemoryStore } from "@x/hono-session/stores/memory";

export const MODES = ["cookie", "map", "memory"];
const SECRET = "runtime-secret-runtime-secret-runtime-0001";

/**
 * One app with the session middleware in `mode`; with `store`, in store
 * mode on that store (the mode then only names it).
 */
export function createApp(mode, store) {
  const options = store
    ? { store }
    : mode === "cookie"
    ? { secret: SECRET }
    : mode === "map"
    ? { store: new Map() }
    : { store: new MemoryStore({ sweepInterval: 0 }) };
  return new Hono()
    .use(session(options))
    .get(
      "/",
      (c) =>
        c.json({
          user: c.session.userId ?? null,
          notice: c.session.notice ?? null,
        }),
    )
    .post("/login", (c) => {
      c.session.regenerate();
      c.session.userId = "ada";
      c.session.flash("notice", "welcome");
      return c.redirect("/", 303);
    })
    .post("/regen", (c) => {
      c.session.regenerate();
      return c.text("ok");
    })
    .post("/logout", (c) => {
      c.session = null;
      return c.text("bye");
    });
}

/** All modes in one app, under /cookie, /map and /memory (for workerd). */
export function createAllApp() {
  // Not strict: /cookie/ and /cookie are the same route.
  const app = new Hono({ strict: false });
  for (const mode of MODES) app.route(`/${mode}`, createApp(mode));
  return app;
}
