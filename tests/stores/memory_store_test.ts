// MemoryStore: expiry on read, the sweep, the LRU bound, its options.
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { MemoryStore } from "../../stores/memory.ts";
import { Hono } from "hono";
import { session, type SessionRecord } from "../../mod.ts";
import { basicApp, Jar, storeKey } from "../_helpers.ts";

const rec = (ttlMs: number, data: Record<string, unknown> = {}) => ({
  data,
  expires: Date.now() + ttlMs,
});

Deno.test("MemoryStore never returns an expired session and drops it when read", () => {
  const clock = FakeTimers.install({ now: Date.now(), toFake: ["Date"] });
  try {
    using store = new MemoryStore({ sweepInterval: 0 });
    store.set("a", rec(1000, { v: 1 }));
    assert.deepEqual(store.get("a")?.data, { v: 1 });
    clock.tick(999);
    assert.ok(store.get("a"));
    clock.tick(1);
    assert.equal(store.get("a"), undefined);
    assert.equal(store.size, 0);
  } finally {
    clock.uninstall();
  }
});

Deno.test("MemoryStore sweeps expired sessions nobody reads, on its timer and on demand", () => {
  const clock = FakeTimers.install({
    now: Date.now(),
    toFake: ["Date", "setInterval", "clearInterval"],
  });
  try {
    using store = new MemoryStore({ sweepInterval: 60 });
    for (let i = 0; i < 100; i++) {
      store.set(`s${i}`, rec(i < 60 ? 30_000 : 120_000));
    }
    assert.equal(store.size, 100);
    clock.tick(60_000);
    assert.equal(store.size, 40, "the timer's sweep dropped the 60 expired");
    clock.tick(60_000);
    assert.equal(store.size, 0);
    store.set("x", rec(10));
    clock.tick(10);
    assert.equal(store.sweep(), 1);
    store.close();
    store.set("y", rec(10));
    clock.tick(60_000);
    assert.equal(
      store.size,
      0,
      "saving again after close() restarts the sweep",
    );
  } finally {
    clock.uninstall();
  }
});

Deno.test("MemoryStore's sweep timer never keeps the process alive", async () => {
  const code = `
    import { MemoryStore } from ${
    JSON.stringify(new URL("../../stores/memory.ts", import.meta.url).href)
  };
    const store = new MemoryStore({ sweepInterval: 3600 });
    store.set("a", { data: {}, expires: Date.now() + 3_600_000 });
    console.log("set");
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000), // a guard against a hang, not a speed limit
  });
  const { success, stdout } = await child.output();
  assert.ok(success, "the process ended by itself, an hour before the sweep");
  assert.equal(new TextDecoder().decode(stdout).trim(), "set");
});

Deno.test("MemoryStore with maxEntries drops the least recently used session", () => {
  using store = new MemoryStore({ maxEntries: 3, sweepInterval: 0 });
  store.set("a", rec(60_000));
  store.set("b", rec(60_000));
  store.set("c", rec(60_000));
  assert.ok(store.get("a")); // a is now the most recently used
  store.set("d", rec(60_000));
  assert.equal(store.size, 3);
  assert.equal(store.get("b"), undefined, "b was the least recently used");
  assert.ok(store.get("a") && store.get("c") && store.get("d"));
  store.set("c", rec(60_000)); // re-saving counts as use
  store.set("e", rec(60_000));
  assert.equal(store.get("a"), undefined);
});

Deno.test("MemoryStore's bound signs out the oldest user, through the middleware", async () => {
  using store = new MemoryStore({ maxEntries: 2, sweepInterval: 0 });
  const app = basicApp({ store });
  const jars = [new Jar(app), new Jar(app), new Jar(app)];
  for (const [i, jar] of jars.entries()) {
    await jar.fetch(`/login?user=u${i}`, { method: "POST" });
  }
  assert.deepEqual(await jars[0].text("/read"), [200, "-"]);
  assert.deepEqual(await jars[1].text("/read"), [200, "u1"]);
  assert.deepEqual(await jars[2].text("/read"), [200, "u2"]);
});

Deno.test("MemoryStore refuses bad options", () => {
  for (const maxEntries of [0, -1, 1.5, NaN]) {
    assert.throws(() => new MemoryStore({ maxEntries }), RangeError);
  }
  for (const sweepInterval of [-1, NaN, Infinity]) {
    assert.throws(
      () => new MemoryStore({ sweepInterval }),
      /sweepInterval must be a number of seconds, 0 or more/,
    );
  }
});

for (
  const [name, make] of [
    ["Map", () => new Map<string, SessionRecord>()],
    ["MemoryStore", () => new MemoryStore({ sweepInterval: 0 })],
  ] as const
) {
  Deno.test(`${name}: a record replaced by an admin tool with new values is what later requests read and write`, async () => {
    const store = make();
    const app = new Hono()
      .use(session<Record<string, unknown>>({ store }))
      .post("/login", (c) => {
        c.session.role = "admin";
        return c.text("ok");
      })
      .get("/role", (c) => c.text(String(c.session.role)))
      .post("/visit", (c) => {
        c.session.visits = ((c.session.visits as number) ?? 0) + 1;
        return c.text(String(c.session.role));
      });
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    const key = storeKey(jar.get("sid")!);
    // Demote, the immutable way: a copy of the record with new values.
    const old = store.get(key) as SessionRecord;
    store.set(key, { ...old, data: { ...old.data, role: "user" } });
    assert.equal(await (await jar.fetch("/role")).text(), "user");
    assert.equal(
      await (await jar.fetch("/visit", { method: "POST" })).text(),
      "user",
    );
    assert.equal(await (await jar.fetch("/role")).text(), "user");
    // The values a saved record shares with later requests are frozen: an
    // edit in place fails loudly instead of going unseen.
    const saved = store.get(key) as SessionRecord;
    assert.throws(() => {
      (saved.data as Record<string, unknown>).role = "admin";
    }, TypeError);
    if (store instanceof MemoryStore) store.close();
  });
}

Deno.test("MemoryStore: the user index follows sign-outs, expiry, sweeps and evictions", async () => {
  const record = (user: string, ttl = 60_000) => ({
    data: {},
    expires: Date.now() + ttl,
    user,
  });
  const store = new MemoryStore({ maxEntries: 2, sweepInterval: 0 });
  store.set("a", record("u-1"));
  store.set("b", record("u-1"));
  assert.equal(store.listUser("u-1").length, 2);
  store.delete("a");
  assert.deepEqual(store.listUser("u-1").map((e) => e.id), ["b"]);
  store.set("c", record("u-2"));
  store.set("d", record("u-3")); // evicts b
  assert.deepEqual(store.listUser("u-1"), []);
  assert.equal(store.indexedUsers, 2);
  store.set("c", record("u-4")); // the same id, tied to another user
  assert.deepEqual(store.listUser("u-2"), []);
  store.set("e", record("u-5", 50)); // evicts d, the least recently set
  assert.deepEqual(store.listUser("u-3"), []);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(store.sweep(), 1);
  assert.equal(store.indexedUsers, 1, "only u-4's session is left");
  store.delete("c");
  assert.equal(store.indexedUsers, 0, "nothing left behind");
});
