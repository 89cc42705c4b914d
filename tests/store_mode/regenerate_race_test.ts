// regenerate() and read-modify-write under real overlapping requests, on
// every store that checks its writes: a sign-out or another regenerate()
// that lands while a request is held open is never undone, one session
// never becomes two, and a 2xx always means the change is kept.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { session, SessionConflictError, type SessionStore } from "../../mod.ts";
import { Jar } from "../_helpers.ts";
import { Gates, type Subject, subjects, tab } from "./_races.ts";

function app(store: SessionStore, gates: Gates) {
  const app = new Hono()
    .use(session<Record<string, unknown>>({ store }))
    .post("/login", (c) => {
      c.session.regenerate();
      c.session.user = "ada";
      return c.text("ok");
    })
    .post("/logout", (c) => {
      c.session = null;
      return c.text("bye");
    })
    .post("/set", (c) => {
      for (const [k, v] of Object.entries(c.req.query())) c.session[k] = v;
      return c.text("ok");
    })
    .post("/regen", (c) => {
      c.session.regenerate();
      return c.text("ok");
    })
    // Loads, waits at the gate named by ?gate=, then regenerates.
    .post("/elevate", async (c) => {
      void c.session.user;
      await gates.hold(c.req.query("gate") ?? "elevate");
      c.session.regenerate();
      c.session.elevated = true;
      return c.text("ok");
    })
    // Loads, waits at the gate, then writes the query's values.
    .post("/slow-set", async (c) => {
      void c.session.user;
      await gates.hold(c.req.query("gate") ?? "set");
      for (const [k, v] of Object.entries(c.req.query())) {
        if (k !== "gate") c.session[k] = v;
      }
      return c.text("ok");
    })
    // Read-modify-write of a counter with a pause between read and write.
    .post("/inc", async (c) => {
      const n = (c.session.n as number | undefined) ?? 0;
      const pause = Number(c.req.query("pause") ?? 0);
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
      c.session.n = n + 1;
      return c.text(String(n + 1));
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

  test("a sign-out while regenerate() is held open is not undone", async (s) => {
    const gates = new Gates();
    const victim = new Jar(app(s.store, gates));
    await victim.fetch("/login", { method: "POST" });
    const attacker = tab(victim);
    const elevate = attacker.fetch("/elevate", { method: "POST" });
    await gates.reached("elevate");
    const out = await victim.fetch("/logout", { method: "POST" });
    assert.equal(out.status, 200);
    gates.open("elevate");
    const res = await elevate;
    assert.equal(res.status, 409, await res.text());
    assert.equal(res.headers.get("set-cookie"), null, "no cookie on a 409");
    assert.equal(await s.count(), 0, "no live entry under a new id");
    assert.deepEqual(await (await attacker.fetch("/all")).json(), {});
  });

  test("two concurrent regenerate() calls leave one session, not two", async (s) => {
    const gates = new Gates();
    const jar = new Jar(app(s.store, gates));
    await jar.fetch("/login", { method: "POST" });
    const a = tab(jar);
    const b = tab(jar);
    const first = a.fetch("/elevate?gate=a", { method: "POST" });
    const second = b.fetch("/elevate?gate=b", { method: "POST" });
    await Promise.all([gates.reached("a"), gates.reached("b")]);
    gates.open("a");
    const ra = await first;
    gates.open("b");
    const rb = await second;
    assert.deepEqual([ra.status, rb.status], [200, 409]);
    assert.equal(rb.headers.get("set-cookie"), null);
    assert.equal(await s.count(), 1, "one live session");
    assert.deepEqual(await (await a.fetch("/all")).json(), {
      user: "ada",
      elevated: true,
    });
    assert.deepEqual(await (await b.fetch("/all")).json(), {}, "old id dead");
  });

  test("a write to another value while regenerate() is held open moves to the new id", async (s) => {
    const gates = new Gates();
    const jar = new Jar(app(s.store, gates));
    await jar.fetch("/login", { method: "POST" });
    const other = tab(jar);
    const elevate = jar.fetch("/elevate", { method: "POST" });
    await gates.reached("elevate");
    assert.equal(
      (await other.fetch("/set?theme=dark", { method: "POST" })).status,
      200,
    );
    gates.open("elevate");
    assert.equal((await elevate).status, 200);
    assert.deepEqual(await (await jar.fetch("/all")).json(), {
      user: "ada",
      elevated: true,
      theme: "dark",
    }, "the acknowledged write is kept");
    assert.equal(await s.count(), 1);
  });

  test("a write held open while regenerate() lands is refused, not lost", async (s) => {
    const gates = new Gates();
    const jar = new Jar(app(s.store, gates));
    await jar.fetch("/login", { method: "POST" });
    const other = tab(jar);
    const write = other.fetch("/slow-set?theme=dark", { method: "POST" });
    await gates.reached("set");
    assert.equal((await jar.fetch("/regen", { method: "POST" })).status, 200);
    gates.open("set");
    const res = await write;
    assert.equal(res.status, 409, "refused loudly");
    assert.equal(res.headers.get("set-cookie"), null);
    assert.deepEqual(await (await jar.fetch("/all")).json(), { user: "ada" });
    assert.equal(await s.count(), 1);
  });

  test("two read-modify-writes that write the same result: one gets 409", async (s) => {
    const gates = new Gates();
    const jar = new Jar(app(s.store, gates));
    await jar.fetch("/set?n=0", { method: "POST" });
    const other = tab(jar);
    const slow = jar.fetch("/slow-set?n=1", { method: "POST" });
    await gates.reached("set");
    assert.equal(
      (await other.fetch("/set?n=1", { method: "POST" })).status,
      200,
    );
    gates.open("set");
    assert.equal((await slow).status, 409);
  });

  test("20 clients incrementing one counter: every 2xx is counted", async (s) => {
    const jar = new Jar(app(s.store, new Gates()));
    await jar.fetch("/login", { method: "POST" });
    let acknowledged = 0;
    let refused = 0;
    // A fixed pattern of pauses (0-2 ms) between read and write.
    await Promise.all(Array.from({ length: 20 }, async (_, client) => {
      const t = tab(jar);
      for (let i = 0; i < 10; i++) {
        const res = await t.fetch(`/inc?pause=${(client + i) % 3}`, {
          method: "POST",
        });
        await res.body?.cancel();
        if (res.status === 200) acknowledged++;
        else if (res.status === 409) refused++;
        else assert.fail(`unexpected status ${res.status}`);
      }
    }));
    const { n } = await (await jar.fetch("/all")).json();
    assert.equal(acknowledged + refused, 200);
    assert.ok(acknowledged > 0);
    assert.equal(n, acknowledged, `${refused} refused with 409`);
  });
}
