// A request that merges with another request's write and then meets a
// third one: each merge starts from what the previous one merged with, so
// nothing acknowledged in between comes back or goes missing. Also the
// deadlines and flash values through a merge. On every checking store.
import assert from "node:assert/strict";
import { Hono } from "hono";
import type { Context } from "hono";
import {
  session,
  SessionConflictError,
  type SessionRecord,
  type SessionStore,
} from "../../mod.ts";
import { Jar, storeKey } from "../_helpers.ts";
import { Gates, type Subject, subjects, tab } from "./_races.ts";

/**
 * Passes every call to `inner`, but holds the second write (set or
 * replace) of a request sent with `x-hold` at the gate "retry": the moment
 * after its first merge, before it writes again.
 */
function holdingRetry(inner: SessionStore, gates: Gates): SessionStore {
  const writes = new WeakMap<object, number>();
  const pause = async (c: Context) => {
    if (c.req.header("x-hold") === undefined) return;
    const n = (writes.get(c) ?? 0) + 1;
    writes.set(c, n);
    if (n === 2) await gates.hold("retry");
  };
  return {
    get: (id, c) => inner.get(id, c),
    async set(id, record, c) {
      await pause(c);
      return await inner.set(id, record, c);
    },
    delete: (id, c) => inner.delete(id, c),
    async replace(oldId, newId, record, c) {
      await pause(c);
      return await inner.replace!(oldId, newId, record, c);
    },
  };
}

function app(store: SessionStore, gates: Gates) {
  const app = new Hono()
    .use(session<Record<string, unknown>>({ store }))
    .post("/set", (c) => {
      for (const [k, v] of Object.entries(c.req.query())) c.session[k] = v;
      return c.text("ok");
    })
    .post("/unset", (c) => {
      delete c.session[c.req.query("key")!];
      return c.text("ok");
    })
    .post("/flash", (c) => {
      c.session.flash("notice", c.req.query("v"));
      return c.text("ok");
    })
    .get("/notice", (c) => c.text(String(c.session.notice ?? "-")))
    // Loads, waits at its gate, then does what ?op= says.
    .post("/slow", async (c) => {
      void c.session.user;
      await gates.hold("slow");
      const op = c.req.query("op");
      if (op === "renew") c.session.renew(60);
      else if (op === "flash") c.session.flash("notice", "saved");
      else if (op === "regenerate") c.session.regenerate();
      else c.session.theme = "dark";
      return c.text("ok");
    })
    .get("/all", (c) => c.json({ ...c.session }));
  app.onError((err, c) =>
    err instanceof SessionConflictError
      ? c.text(`conflict: ${err.message}`, 409)
      : c.text(`${err.name}: ${err.message}`, 500)
  );
  return app;
}

for (const [name, make, available] of subjects) {
  const test = (title: string, fn: (s: Subject) => Promise<void>) =>
    Deno.test({
      name: `${name}: ${title}`,
      ignore: !available,
      async fn() {
        const subject = await make();
        try {
          await fn(subject);
        } finally {
          await subject.close();
        }
      },
    });

  for (const op of ["write", "regenerate"]) {
    test(`a value revoked between two merges of a slow ${op} stays revoked`, async (s) => {
      const gates = new Gates();
      const jar = new Jar(app(holdingRetry(s.store, gates), gates));
      await jar.fetch("/set?user=ada", { method: "POST" });
      const slow = tab(jar).fetch(`/slow?op=${op}`, {
        method: "POST",
        headers: { "x-hold": "1" },
      });
      await gates.reached("slow");
      // Another request grants a role; the slow one will merge with it.
      assert.equal(
        (await tab(jar).fetch("/set?role=admin", { method: "POST" })).status,
        200,
      );
      // A second slow request, so the first one's write conflicts twice.
      gates.open("slow");
      await gates.reached("retry");
      // Between the two merges, the role is revoked, answered 200.
      assert.equal(
        (await tab(jar).fetch("/unset?key=role", { method: "POST" })).status,
        200,
      );
      gates.open("retry");
      const res = await slow;
      const values = await (await (res.status === 200 && op === "regenerate"
        ? new Jar(jar.app).fetch("/all", {
          headers: { cookie: res.headers.get("set-cookie")!.split(";")[0] },
        })
        : jar.fetch("/all"))).json();
      assert.ok([200, 409].includes(res.status), `status ${res.status}`);
      assert.equal(values.role, undefined, "the revoked role came back");
    });
  }

  test("renew(60) answered 200 keeps its shorter lifetime through a merge", async (s) => {
    const gates = new Gates();
    const jar = new Jar(app(s.store, gates));
    await jar.fetch("/set?user=ada", { method: "POST" });
    const slow = jar.fetch("/slow?op=renew", { method: "POST" });
    await gates.reached("slow");
    assert.equal(
      (await tab(jar).fetch("/set?lock=1", { method: "POST" })).status,
      200,
    );
    gates.open("slow");
    const res = await slow;
    assert.equal(res.status, 200);
    assert.match(res.headers.get("set-cookie")!, /Max-Age=60;/);
    const key = storeKey(jar.get("sid")!);
    const record = await s.store.get(key, undefined as never) as SessionRecord;
    assert.ok(record.expires <= Date.now() + 60_000, "server deadline too");
    assert.deepEqual(await (await jar.fetch("/all")).json(), {
      user: "ada",
      lock: "1",
    });
  });

  test("the same flash set again while another request showed it is shown once more", async (s) => {
    const gates = new Gates();
    const jar = new Jar(app(s.store, gates));
    await jar.fetch("/flash?v=saved", { method: "POST" });
    // The slow request flashes the notice anew; meanwhile another request
    // shows (and so consumes) the first one.
    const slow = jar.fetch("/slow?op=flash", { method: "POST" });
    await gates.reached("slow");
    assert.equal(await (await tab(jar).fetch("/notice")).text(), "saved");
    gates.open("slow");
    const res = await slow;
    if (res.status === 200) {
      assert.equal(await (await jar.fetch("/notice")).text(), "saved");
      assert.equal(await (await jar.fetch("/notice")).text(), "-");
    } else {
      assert.equal(res.status, 409, "refused loudly, not lost");
    }
  });
  test("renew(5) racing an idle write-back stays 5 s: activity never passes the limit", async (s) => {
    const gates = new Gates();
    const app = new Hono()
      .use(session<Record<string, unknown>>({
        store: s.store,
        maxAge: 3600,
        idleTimeout: 600,
        touchFraction: 0.01,
      }))
      .post("/login", (c) => {
        c.session.user = "ada";
        return c.text("ok");
      })
      .post("/short", (c) => {
        c.session.renew(5);
        return c.text("ok");
      })
      .get("/slow", async (c) => {
        void c.session.user;
        await gates.hold("slow");
        return c.text("ok");
      })
      .get("/who", (c) => c.text(String(c.session.user ?? "-")));
    const jar = new Jar(app);
    const real = Date.now;
    let skew = 0;
    Date.now = () => real() + skew;
    try {
      await jar.fetch("/login", { method: "POST" });
      skew = 10_000; // the slow read is now worth an idle write-back
      const slow = tab(jar).fetch("/slow");
      await gates.reached("slow");
      assert.equal((await jar.fetch("/short", { method: "POST" })).status, 200);
      gates.open("slow");
      const res = await slow;
      for (const line of res.headers.getSetCookie()) {
        const maxAge = Number(/Max-Age=(\d+)/.exec(line)?.[1]);
        assert.ok(maxAge <= 5, `the slow read's cookie says ${maxAge} s`);
      }
      skew += 30_000;
      assert.equal(await (await jar.fetch("/who")).text(), "-");
    } finally {
      Date.now = real;
    }
  });

  test("flashing a kept value while another request writes: shown once more, then gone", async (s) => {
    const gates = new Gates();
    const app = new Hono()
      .use(session<Record<string, unknown>>({ store: s.store }))
      .post("/login", (c) => {
        c.session.user = "ada";
        c.session.banner = "welcome";
        return c.text("ok");
      })
      .post("/slow", async (c) => {
        void c.session.user;
        await gates.hold("slow");
        c.session.flash("banner", "welcome"); // same value, now a flash
        return c.text("ok");
      })
      .post("/theme", (c) => {
        c.session.theme = "dark";
        return c.text("ok");
      })
      .get("/banner", (c) => c.text(String(c.session.banner ?? "-")));
    app.onError((err, c) =>
      err instanceof SessionConflictError
        ? c.text("conflict", 409)
        : c.text(String(err), 500)
    );
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    const slow = tab(jar).fetch("/slow", { method: "POST" });
    await gates.reached("slow");
    assert.equal((await jar.fetch("/theme", { method: "POST" })).status, 200);
    gates.open("slow");
    assert.equal((await slow).status, 200);
    assert.equal(await (await jar.fetch("/banner")).text(), "welcome");
    assert.equal(
      await (await jar.fetch("/banner")).text(),
      "-",
      "it was flashed",
    );
  });
  test("a flash set by another request during a slow write shows exactly once after the merge", async (s) => {
    const gates = new Gates();
    const app = new Hono()
      .use(session<Record<string, unknown>>({ store: s.store }))
      .post("/login", (c) => {
        c.session.user = "ada";
        return c.text("ok");
      })
      .post("/slow", async (c) => {
        void c.session.user;
        await gates.hold("slow");
        c.session.cart = ["book"];
        return c.text("ok");
      })
      .post("/notify", (c) => {
        c.session.flash("msg", "saved");
        return c.text("ok");
      })
      .get("/msg", (c) => c.text(String(c.session.msg ?? "-")));
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    const slow = tab(jar).fetch("/slow", { method: "POST" });
    await gates.reached("slow");
    assert.equal((await jar.fetch("/notify", { method: "POST" })).status, 200);
    gates.open("slow");
    assert.equal((await slow).status, 200, "merged");
    assert.equal(await (await jar.fetch("/msg")).text(), "saved");
    assert.equal(await (await jar.fetch("/msg")).text(), "-", "only once");
  });

  test("with an object value in the session, changes to other keys merge (200), not 409", async (s) => {
    const gates = new Gates();
    const app = new Hono()
      .use(session<Record<string, unknown>>({ store: s.store }))
      .post("/login", (c) => {
        c.session.profile = { name: "Ada", langs: ["en", "fr"] };
        return c.text("ok");
      })
      .post("/slow", async (c) => {
        void c.session.profile; // an object handed out: copied, not changed
        await gates.hold("slow");
        c.session.theme = "dark";
        return c.text("ok");
      })
      .post("/cart", (c) => {
        c.session.items = 1;
        return c.text("ok");
      })
      .get("/all", (c) => c.json({ ...c.session }));
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    const slow = tab(jar).fetch("/slow", { method: "POST" });
    await gates.reached("slow");
    assert.equal((await jar.fetch("/cart", { method: "POST" })).status, 200);
    gates.open("slow");
    assert.equal((await slow).status, 200);
    assert.deepEqual(await (await jar.fetch("/all")).json(), {
      profile: { name: "Ada", langs: ["en", "fr"] },
      theme: "dark",
      items: 1,
    });
  });
}
