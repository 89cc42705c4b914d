// The Cloudflare Worker of the D1 leg: SqlStore on the D1 binding `DB`
// (miniflare's real D1, on workerd), from the npm build. It serves
//   /d1/...           the runtime scenarios' app, its store made on the
//                     first request (a Worker sees its bindings only then);
//   /setup            creates the table (createTable());
//   /cases            the names of the conformance kit's cases;
//   /case?i=N         runs case N inside workerd: 200 "ok" or 500 and why;
//   /limit            through the middleware, a session over D1's
//                     2,000,000-byte row limit (refused by SqlStore's check,
//                     nothing written), and one just under it (saved).
// The kit imports node:test, which workerd lacks: tests/runtimes/d1.mjs
// bundles a stand-in (the cases register through the kit's `test` option).
import { Hono } from "hono";
import { session } from "@x/hono-session";
import { SqlStore } from "@x/hono-session/stores/sql";
import { storeConformance } from "@x/hono-session/testing";
import { createApp } from "./app.mjs";

let env;
const cases = [];
storeConformance("SqlStore (D1, workerd)", () => {
  const store = new SqlStore(env.DB);
  return { store, close: () => store.close() };
}, {
  checksConflicts: true,
  checksExpiry: true,
  test: (name, fn) => void cases.push([name, fn]),
});

async function limit(db) {
  const rows = async () =>
    (await db.prepare("SELECT id, version FROM sessions ORDER BY id").all())
      .results;
  const results = [];
  for (const size of [2_100_000, 1_900_000]) {
    const store = new SqlStore(db);
    const app = new Hono()
      .use(session({ store }))
      .post("/login", (c) => {
        c.session.userId = "ada";
        return c.text("ok");
      })
      .post("/big", (c) => {
        c.session.big = "x".repeat(size);
        return c.text("ok");
      });
    app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500));
    const login = await app.request("/login", { method: "POST" });
    const cookie = login.headers.get("set-cookie").split(";")[0];
    const before = await rows();
    const res = await app.request("/big", {
      method: "POST",
      headers: { cookie },
    });
    results.push({
      size,
      status: res.status,
      message: await res.text(),
      setCookie: res.headers.get("set-cookie"),
      unchanged: JSON.stringify(await rows()) === JSON.stringify(before),
      // The longest session JSON in the table, in characters.
      longest: (await db.prepare(
        "SELECT max(length(data)) AS n FROM sessions",
      ).all()).results[0].n,
    });
  }
  return results;
}

let app;
export default {
  async fetch(request, bindings, ctx) {
    env = bindings;
    const url = new URL(request.url);
    if (url.pathname === "/setup") {
      await new SqlStore(env.DB).createTable();
      return new Response("ok");
    }
    if (url.pathname === "/cases") {
      return Response.json(cases.map(([name]) => name));
    }
    if (url.pathname === "/case") {
      const [, fn] = cases[Number(url.searchParams.get("i"))];
      try {
        await fn();
        return new Response("ok");
      } catch (error) {
        return new Response(String(error?.stack ?? error), { status: 500 });
      }
    }
    if (url.pathname === "/limit") return Response.json(await limit(env.DB));
    app ??= new Hono({ strict: false })
      .route("/d1", createApp("d1", new SqlStore(env.DB)));
    return app.fetch(request, env, ctx);
  },
};
