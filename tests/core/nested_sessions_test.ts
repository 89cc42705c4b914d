// Two session() middlewares on one request: each keeps its own session and
// its own cookies, c.session is the innermost one, and nothing ever moves
// from one cookie into the other.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { session } from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { Jar, SECRET } from "../_helpers.ts";

function app(inner = { cookieName: "admin", existsCookieName: "ax" }) {
  const store = new MemoryStore({ sweepInterval: 0 });
  const prefs = session<Record<string, unknown>>({
    secret: SECRET,
    cookieName: "prefs",
    existsCookieName: "px",
  });
  const app = new Hono()
    .use(prefs)
    // Runs between the two: its writes go to the outer (prefs) session.
    .use(async (c, next) => {
      if (c.req.query("path") !== undefined) c.session.lastPath = c.req.path;
      await next();
    })
    .use("/admin/*", session<Record<string, unknown>>({ store, ...inner }))
    // The same middleware mounted twice on a route: one session, not two.
    .use("/twice/*", prefs)
    .post("/theme", (c) => {
      c.session.theme = c.req.query("v");
      return c.text("ok");
    })
    .post("/twice/theme", (c) => {
      c.session.theme = c.req.query("v");
      return c.text("ok");
    })
    .get("/prefs", (c) => c.json({ ...c.session }))
    .post("/admin/login", (c) => {
      c.session.regenerate();
      c.session.adminUser = "root";
      c.session.csrfSecret = "s3cret";
      return c.text("ok");
    })
    .post("/admin/logout", (c) => {
      c.session = null;
      return c.text("bye");
    })
    .get("/admin/me", (c) => c.json({ ...c.session }));
  app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500));
  return { app, store };
}

Deno.test("nested sessions: the inner one's values never reach the outer cookie", async () => {
  const { app: a, store } = app();
  const jar = new Jar(a);
  await jar.fetch("/theme?v=dark", { method: "POST" });
  const prefsBefore = jar.get("prefs");
  const res = await jar.fetch("/admin/login", { method: "POST" });
  assert.equal(res.status, 200);
  assert.deepEqual(
    jar.last.map((c) => c.name).sort(),
    ["admin", "ax"],
    "only the inner cookies are written",
  );
  assert.equal(jar.get("prefs"), prefsBefore, "the prefs cookie is untouched");
  assert.deepEqual(await (await jar.fetch("/prefs")).json(), { theme: "dark" });
  assert.deepEqual(await (await jar.fetch("/admin/me")).json(), {
    adminUser: "root",
    csrfSecret: "s3cret",
  });
  assert.equal(store.size, 1);
});

Deno.test("nested sessions: the outer session is saved from its own values only", async () => {
  const { app: a } = app();
  const jar = new Jar(a);
  await jar.fetch("/theme?v=dark", { method: "POST" });
  // A middleware between the two writes to the outer session; the admin
  // handler writes to the inner one.
  await jar.fetch("/admin/login?path", { method: "POST" });
  assert.deepEqual(
    jar.last.map((c) => c.name).sort(),
    ["admin", "ax", "prefs", "px"],
  );
  assert.deepEqual(await (await jar.fetch("/prefs")).json(), {
    theme: "dark",
    lastPath: "/admin/login",
  });
  assert.deepEqual(await (await jar.fetch("/admin/me")).json(), {
    adminUser: "root",
    csrfSecret: "s3cret",
  });
});

Deno.test("nested sessions: ending the inner one leaves the outer one alone", async () => {
  const { app: a, store } = app();
  const jar = new Jar(a);
  await jar.fetch("/theme?v=dark", { method: "POST" });
  await jar.fetch("/admin/login", { method: "POST" });
  await jar.fetch("/admin/logout", { method: "POST" });
  assert.deepEqual(
    jar.last.map((c) => [c.name, c.maxAge]).sort(),
    [["admin", 0], ["ax", 0]],
  );
  assert.equal(store.size, 0);
  assert.deepEqual(await (await jar.fetch("/prefs")).json(), { theme: "dark" });
  assert.deepEqual(await (await jar.fetch("/admin/me")).json(), {});
});

Deno.test("nested sessions with a shared cookie name are refused, naming both", async () => {
  for (
    const inner of [
      { cookieName: "prefs", existsCookieName: "ax" },
      { cookieName: "admin", existsCookieName: "px" },
      { cookieName: "px", existsCookieName: "ax" },
    ]
  ) {
    const { app: a, store } = app(inner);
    const jar = new Jar(a);
    await jar.fetch("/theme?v=dark", { method: "POST" });
    const res = await jar.fetch("/admin/login", { method: "POST" });
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.match(text, /^TypeError: two session\(\) middlewares/);
    assert.match(text, /outer: cookieName "prefs", existsCookieName "px"/);
    assert.match(
      text,
      new RegExp(
        `inner: cookieName "${inner.cookieName}", existsCookieName "${inner.existsCookieName}"`,
      ),
    );
    assert.deepEqual(jar.last, [], "no cookie written");
    assert.equal(store.size, 0);
    assert.deepEqual(await (await jar.fetch("/prefs")).json(), {
      theme: "dark",
    });
  }
});

Deno.test("the same session() middleware mounted twice acts once", async () => {
  const { app: a } = app();
  const jar = new Jar(a);
  await jar.fetch("/twice/theme?v=light", { method: "POST" });
  assert.deepEqual(jar.last.map((c) => c.name).sort(), ["prefs", "px"]);
  assert.deepEqual(await (await jar.fetch("/prefs")).json(), {
    theme: "light",
  });
});

Deno.test("nested sessions sharing one store: an id moved into the other cookie finds nothing", async () => {
  const store = new MemoryStore({ sweepInterval: 0 });
  const a = new Hono()
    .use(session<Record<string, unknown>>({
      store,
      cookieName: "prefs",
      existsCookieName: "px",
    }))
    .use(
      "/admin/*",
      session<Record<string, unknown>>({
        store,
        cookieName: "admin",
        existsCookieName: "ax",
      }),
    )
    // A public route that stores whatever the client asks.
    .post("/prefs", (c) => {
      for (const [k, v] of Object.entries(c.req.query())) c.session[k] = v;
      return c.text("ok");
    })
    .get("/admin/me", (c) => c.json({ ...c.session }));
  const jar = new Jar(a);
  await jar.fetch("/prefs?adminUser=root", { method: "POST" });
  const prefsId = jar.get("prefs")!;
  const res = await a.request("/admin/me", {
    headers: { cookie: `admin=${prefsId}` },
  });
  assert.deepEqual(
    await res.json(),
    {},
    "the prefs session is not an admin one",
  );
  store.close();
});
