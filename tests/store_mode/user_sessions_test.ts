// userSessions() beyond the conformance kit: two session() middlewares on
// one store in one request, and stores whose listUser answers nonsense.
import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  session,
  type SessionRecord,
  type SessionStore,
  userSessions,
} from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { Jar, withFakeTime } from "../_helpers.ts";

Deno.test("userSessions: with two store-mode middlewares on one store, both of the request's sessions are current and kept", async () => {
  const store = new MemoryStore({ sweepInterval: 0 });
  const sessions = userSessions(store);
  const app = new Hono()
    .use(session<{ userId?: string }>({ store }))
    .use(
      "/admin/*",
      session<{ userId?: string }>({
        store,
        cookieName: "admin",
        existsCookieName: "ax",
      }),
    )
    .post("/login", (c) => {
      c.session.regenerate({ user: "alice" });
      c.session.userId = "alice";
      return c.text("ok");
    })
    .post("/admin/login", (c) => {
      c.session.regenerate({ user: "alice" });
      c.session.userId = "alice";
      return c.text("ok");
    })
    .get("/me", (c) => c.text(c.session.userId ?? "-"))
    .get("/admin/me", (c) => c.text(c.session.userId ?? "-"))
    .get("/admin/sessions", async (c) => {
      const list = await sessions.list("alice", c);
      return c.json(list.map((s) => s.current));
    })
    .post(
      "/admin/sign-out-others",
      async (c) =>
        c.text(String(await sessions.revokeAll("alice", { except: c }))),
    );
  const laptop = new Jar(app);
  await laptop.fetch("/login", { method: "POST" });
  await laptop.fetch("/admin/login", { method: "POST" });
  const phone = new Jar(app);
  await phone.fetch("/login", { method: "POST" });

  const current = await (await laptop.fetch("/admin/sessions")).json();
  assert.deepEqual([...current].sort(), [false, true, true]);
  assert.deepEqual(
    await laptop.text("/admin/sign-out-others", { method: "POST" }),
    [200, "1"],
  );
  assert.deepEqual(await laptop.text("/me"), [200, "alice"]);
  assert.deepEqual(await laptop.text("/admin/me"), [200, "alice"]);
  assert.deepEqual(await phone.text("/me"), [200, "-"]);
});

Deno.test("userSessions: a listUser that answers nonsense is a clear TypeError; duplicates and non-JSON values are not listed", async () => {
  const inner = new MemoryStore({ sweepInterval: 0 });
  let answer: unknown;
  const store: SessionStore = {
    get: (id, c) => inner.get(id, c),
    set: (id, record, c) => inner.set(id, record, c),
    delete: (id) => inner.delete(id),
    listUser: () => answer as never,
  };
  const sessions = userSessions(store);
  for (
    const bad of [undefined, null, "abc", { length: 1 }, [null], [{ id: 42 }]]
  ) {
    answer = bad;
    await assert.rejects(
      sessions.list("alice"),
      (e: unknown) =>
        e instanceof TypeError && /listUser\(\)/.test((e as Error).message),
      JSON.stringify(bad) ?? "undefined",
    );
    await assert.rejects(sessions.revokeAll("alice"), TypeError);
  }
  const record = (data: Record<string, unknown>): SessionRecord => ({
    data,
    expires: Date.now() + 60_000,
    user: "alice",
    handle: "h".repeat(22),
  });
  answer = [
    { id: "a", record: record({ n: 1 }) },
    { id: "a", record: record({ n: 1 }) },
    { id: "b", record: record({ big: 1n }) },
    { id: "c", record: { ...record({}), user: "bob" } },
    { id: "d", record: { ...record({}), expires: Date.now() - 1 } },
  ];
  const list = await sessions.list("alice");
  assert.deepEqual(list.map((s) => s.values), [{ n: 1 }]);
});

Deno.test("userSessions: refuses a store that cannot list, and a user id that is not one", async () => {
  assert.throws(() => userSessions(new Map() as never), /no listUser method/);
  const sessions = userSessions(new MemoryStore({ sweepInterval: 0 }));
  for (const user of ["", "u".repeat(513), 42, null, "a\0b", "m\uD800"]) {
    await assert.rejects(sessions.list(user as never), TypeError);
    await assert.rejects(sessions.revokeAll(user as never), TypeError);
  }
  assert.equal(await sessions.revoke("alice", "nope"), false);
});

Deno.test("userSessions: list() is newest sign-in first (by created), whatever order the store answers in; regenerate() moves a session to the front; a record without created comes last", async () => {
  await withFakeTime(async (clock) => {
    const inner = new MemoryStore({ sweepInterval: 0 });
    let reverse = false;
    // The same store, answering its listing in the opposite order on demand.
    const store: SessionStore = {
      get: (id, c) => inner.get(id, c),
      set: (id, record, c) => inner.set(id, record, c),
      replace: (oldId, newId, record, c) =>
        inner.replace(oldId, newId, record, c),
      delete: (id) => inner.delete(id),
      listUser: (user) => {
        const list = inner.listUser(user);
        return reverse ? list.reverse() : list;
      },
    };
    const sessions = userSessions<{ device?: string }>(store);
    const app = new Hono()
      .use(session<{ device?: string }>({ store }))
      .post("/login", (c) => {
        c.session.regenerate({ user: "alice" });
        c.session.device = c.req.query("device");
        return c.text("ok");
      });
    const devices = async () =>
      (await sessions.list("alice")).map((s) => s.values.device);
    const laptop = new Jar(app);
    await laptop.fetch("/login?device=laptop", { method: "POST" });
    clock.tick(1000);
    await new Jar(app).fetch("/login?device=phone", { method: "POST" });
    clock.tick(1000);
    await new Jar(app).fetch("/login?device=tablet", { method: "POST" });
    assert.deepEqual(await devices(), ["tablet", "phone", "laptop"]);
    reverse = true;
    assert.deepEqual(await devices(), ["tablet", "phone", "laptop"]);
    const created = (await sessions.list("alice")).map((s) => s.created);
    assert.deepEqual(created, [
      clock.now(),
      clock.now() - 1000,
      clock.now() - 2000,
    ]);
    // Signing in again on the laptop makes it the newest.
    clock.tick(1000);
    await laptop.fetch("/login?device=laptop", { method: "POST" });
    assert.deepEqual(await devices(), ["laptop", "tablet", "phone"]);
    // A record saved without `created` (by a store of the app's own) last.
    const [entry] = inner.listUser("alice").filter((e) =>
      (e.record as SessionRecord).data.device === "tablet"
    );
    const { created: _, ...rest } = entry!.record as SessionRecord;
    inner.set(entry!.id, rest as SessionRecord);
    reverse = false;
    assert.deepEqual(await devices(), ["laptop", "phone", "tablet"]);
  });
});

Deno.test("userSessions: list() values are a copy: editing them changes no session", async () => {
  const store = new MemoryStore({ sweepInterval: 0 });
  const sessions = userSessions<{ cart?: string[] }>(store);
  const app = new Hono()
    .use(session<{ cart?: string[] }>({ store }))
    .post("/login", (c) => {
      c.session.regenerate({ user: "alice" });
      c.session.cart = ["apple"];
      return c.text("ok");
    })
    .get("/cart", (c) => c.json(c.session.cart));
  const jar = new Jar(app);
  await jar.fetch("/login", { method: "POST" });
  const [listed] = await sessions.list("alice");
  listed!.values.cart!.push("stolen");
  assert.deepEqual(await (await jar.fetch("/cart")).json(), ["apple"]);
  assert.deepEqual((await sessions.list("alice"))[0]!.values.cart, ["apple"]);
});

Deno.test("userSessions: a user id of exactly 512 characters is tied, listed and revoked; 513 is refused", async () => {
  const store = new MemoryStore({ sweepInterval: 0 });
  const sessions = userSessions(store);
  const longest = "u".repeat(512);
  const app = new Hono()
    .use(session({ store }))
    .post("/login", (c) => {
      c.session.regenerate({ user: c.req.query("user") });
      return c.text("ok");
    });
  app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500));
  const jar = new Jar(app);
  assert.deepEqual(
    await jar.text(`/login?user=${longest}`, { method: "POST" }),
    [200, "ok"],
  );
  assert.equal((await sessions.list(longest)).length, 1);
  const [status, body] = await jar.text(`/login?user=${longest}u`, {
    method: "POST",
  });
  assert.equal(status, 500);
  assert.match(
    body,
    /TypeError: .*user must be a string of 1 to 512 characters/,
  );
  await assert.rejects(sessions.list(`${longest}u`), TypeError);
  assert.equal(await sessions.revokeAll(longest), 1);
});
