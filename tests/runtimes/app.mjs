// The app every runtime serves, built only from the npm build of the
// package and hono from npm: the same code on Node, Bun and workerd.
import { Hono } from "hono";
import { session } from "@x/hono-session";
import { MemoryStore } from "@x/hono-session/stores/memory";

export const MODES = ["cookie", "chunked", "map", "memory"];
const SECRET = "runtime-secret-runtime-secret-runtime-0001";

// A checksum of a text, to see that a big session came back whole.
function checksum(text) {
  let sum = 0;
  for (let i = 0; i < text.length; i++) {
    sum = (sum * 31 + text.charCodeAt(i)) >>> 0;
  }
  return sum;
}

// About 10 KB: half random (compresses poorly), half repetitive.
function bigText() {
  const bytes = crypto.getRandomValues(new Uint8Array(3750));
  let random = "";
  for (const b of bytes) random += String.fromCharCode(b);
  return btoa(random) + "blue cotton t-shirt, size M; ".repeat(172);
}

/**
 * One app with the session middleware in `mode`; with `store`, in store
 * mode on that store (the mode then only names it).
 */
export function createApp(mode, store) {
  const options = store
    ? { store }
    : mode === "cookie"
    ? { secret: SECRET, migrateFrom: "hono-session@1" }
    : mode === "chunked"
    ? { secret: SECRET, compression: "deflate-raw", cookieChunks: true }
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
          big: c.session.big === undefined
            ? null
            : { length: c.session.big.length, sum: checksum(c.session.big) },
        }),
    )
    .post("/big", (c) => {
      c.session.big = c.req.query("small") === undefined ? bigText() : "small";
      return c.json({
        length: c.session.big.length,
        sum: checksum(c.session.big),
      });
    })
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
