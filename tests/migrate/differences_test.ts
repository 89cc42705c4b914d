// The "Where the two differ" table of docs/coming_from_hono_session.md, row by
// row, against the real hono-session 1.2.0 (npm): what 1.x did, and what this
// package does.
import assert from "node:assert/strict";
import { Hono, type MiddlewareHandler } from "hono";
import { session } from "../../mod.ts";
import { storeKey, withFakeTime } from "../_helpers.ts";
import { Browser, V1_SECRET, v1Session } from "./_v1.ts";

type Make = (options: Record<string, unknown>) => MiddlewareHandler;
const v1: Make = (options) => v1Session(options as never) as never;
const ours: Make = (options) => session(options as never) as never;

function app(middleware: MiddlewareHandler): Hono {
  const app = new Hono();
  app.use(middleware);
  app.post("/write", (c: any) => {
    c.session.x = c.req.query("x") ?? 1;
    return c.text("ok");
  });
  app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500));
  return app;
}

Deno.test("differs: secret: 1.x took a short one and failed at the first seal; here session() refuses it", async () => {
  const res = await app(v1({ secret: "short" })).request("/write", {
    method: "POST",
  });
  assert.equal(res.status, 500);
  assert.match(await res.text(), /Password string too short/);
  assert.throws(() => ours({ secret: "short" }), RangeError);
});

Deno.test("differs: maxAge: 1.x set Max-Age to maxAge on every write; here it is the time left", async () => {
  await withFakeTime(async (clock) => {
    for (
      const [make, expected] of [[v1, 86400], [ours, 86400 - 3600]] as const
    ) {
      const browser = new Browser(app(make({ secret: V1_SECRET })));
      await browser.fetch("/write", { method: "POST" });
      clock.tick(3600_000);
      await browser.fetch("/write?x=2", { method: "POST" });
      assert.equal(
        browser.last.find((c) => c.name === "sid")!.maxAge,
        expected,
      );
    }
  });
});

Deno.test("differs: cookieOptions: 1.x passed maxAge on and set no SameSite; here maxAge is refused and SameSite=Lax is the default", async () => {
  const browser = new Browser(
    app(v1({ secret: V1_SECRET, cookieOptions: { maxAge: 60 } })),
  );
  await browser.fetch("/write", { method: "POST" });
  const sid = browser.last.find((c) => c.name === "sid")!;
  assert.equal(sid.maxAge, 60);
  assert.equal(sid.attributes.samesite, undefined);
  assert.throws(
    () => ours({ secret: V1_SECRET, cookieOptions: { maxAge: 60 } }),
    /cookieOptions.maxAge is not supported/,
  );
  const mine = new Browser(app(ours({ secret: V1_SECRET })));
  await mine.fetch("/write", { method: "POST" });
  assert.equal(
    mine.last.find((c) => c.name === "sid")!.attributes.samesite,
    "Lax",
  );
});

Deno.test("differs: store: 1.x gave it the cookie's value and the flat values; here the id's hash and a record", async () => {
  const map = new Map<string, any>();
  const browser = new Browser(app(v1({ store: map })));
  await browser.fetch("/write", { method: "POST" });
  const uuid = browser.cookies.get("sid")!;
  assert.deepEqual(Object.keys(map.get(uuid)).sort(), ["_expires", "x"]);

  const mine = new Map<string, any>();
  const ourBrowser = new Browser(app(ours({ store: mine })));
  await ourBrowser.fetch("/write", { method: "POST" });
  const token = ourBrowser.cookies.get("sid")!;
  assert.deepEqual([...mine.keys()], [storeKey(token)]);
  assert.deepEqual({ ...mine.get(storeKey(token)).data }, { x: 1 });
  assert.equal(typeof mine.get(storeKey(token)).expires, "number");
});

Deno.test("differs: encoder: 1.x encoded the flat values; here the record", async () => {
  for (
    const [make, expected] of [[v1, ["_expires", "x"]], [ours, [
      "created",
      "data",
      "expires",
    ]]] as const
  ) {
    const seen: string[][] = [];
    const encoder = {
      encode(data: object) {
        seen.push(Object.keys(data).sort());
        return "sealed";
      },
      decode: () => null,
    };
    await app(make({ secret: V1_SECRET, encoder })).request("/write", {
      method: "POST",
    });
    assert.deepEqual(seen, [expected]);
  }
});

Deno.test("differs: values: 1.x dropped null, [], {} and objects without own keys (a Date) at each save, and a Map kept class instances; here JSON only, kept as written", async () => {
  class Point {
    constructor(readonly x: number) {}
  }
  const routes = (middleware: MiddlewareHandler) => {
    const a = new Hono();
    a.use(middleware);
    a.post("/empty", (c: any) => {
      c.session.a = null;
      c.session.b = [];
      c.session.c = {};
      c.session.d = 1;
      return c.text("ok");
    });
    a.post("/date", (c: any) => {
      c.session.when = new Date(0);
      return c.text("ok");
    });
    a.get(
      "/",
      (c: any) =>
        c.json([c.session.a, c.session.b, c.session.c, c.session.when ?? "-"]),
    );
    a.post("/point", (c: any) => {
      c.session.point = new Point(1);
      return c.text("ok");
    });
    a.get(
      "/types",
      (c: any) =>
        c.json([c.session.when ?? null, c.session.point instanceof Point]),
    );
    a.onError((err, c) => c.text(err.name, 500));
    return a;
  };
  const old = new Browser(routes(v1({ store: new Map() })));
  await old.fetch("/empty", { method: "POST" });
  assert.equal(await old.step("GET /"), '200 [null,null,null,"-"]');
  assert.equal(await old.step("POST /date"), "200 ok");
  assert.equal(await old.step("POST /point"), "200 ok");
  assert.equal(await old.step("GET /types"), "200 [null,true]");

  const mine = new Browser(routes(ours({ store: new Map() })));
  await mine.fetch("/empty", { method: "POST" });
  assert.equal(await mine.step("GET /"), '200 [null,[],{},"-"]');
  assert.equal(await mine.step("POST /date"), "500 TypeError");
  assert.equal(await mine.step("POST /point"), "500 TypeError");
});

Deno.test("differs: a handler that throws: 1.x saved the session all the same; here nothing is saved", async () => {
  for (const [make, expected] of [[v1, "1"], [ours, "-"]] as const) {
    const a = new Hono();
    a.use(make({ secret: V1_SECRET }));
    a.post("/fail", (c: any) => {
      c.session.x = 1;
      throw new Error("boom");
    });
    a.get("/", (c: any) => c.text(String(c.session.x ?? "-")));
    a.onError((_, c) => c.text("failed", 500));
    const browser = new Browser(a);
    assert.equal(
      (await browser.fetch("/fail", { method: "POST" })).status,
      500,
    );
    assert.equal(await browser.step("GET /"), `200 ${expected}`);
  }
});

Deno.test("differs: regenerate() returned a promise in 1.x; here nothing, and awaiting it still works", async () => {
  for (
    const [make, expected] of [[v1, "object"], [ours, "undefined"]] as const
  ) {
    const a = new Hono();
    a.use(make({ secret: V1_SECRET }));
    a.post("/", async (c: any) => {
      const result = c.session.regenerate();
      await result;
      return c.text(typeof result);
    });
    assert.equal(
      await (await a.request("/", { method: "POST" })).text(),
      expected,
    );
  }
});

Deno.test("differs: c.session after c.session = null: null in 1.x; here a new, empty session", async () => {
  for (const [make, expected] of [[v1, "null"], [ours, "new"]] as const) {
    const a = new Hono();
    a.use(make({ secret: V1_SECRET }));
    a.post("/", (c: any) => {
      c.session = null;
      return c.text(
        c.session === null ? "null" : c.session.isNew ? "new" : "?",
      );
    });
    assert.equal(
      await (await a.request("/", { method: "POST" })).text(),
      expected,
    );
  }
});

Deno.test("differs: an id the store does not know: 1.x adopted it (fixation); here a new random id", async () => {
  const planted = "00000000-0000-4000-8000-000000000000";
  for (const [make, adopted] of [[v1, true], [ours, false]] as const) {
    const browser = new Browser(app(make({ store: new Map() })));
    browser.cookies.set("sid", planted);
    await browser.fetch("/write", { method: "POST" });
    assert.equal(browser.cookies.get("sid") === planted, adopted);
  }
});
