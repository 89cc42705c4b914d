// The lifecycle events onEvent reports in both modes: created, regenerated,
// signed-out, cookie-written (with the cookie's exact size), each only
// once its step succeeded; and revoked, from userSessions().
import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  session,
  type SessionEvent,
  type SessionRecord,
  userSessions,
} from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { basicApp, eachMode, Jar, setCookies } from "../_helpers.ts";

/** The session cookie's size as browsers count it, summed over chunks. */
function written(res: Response): number | undefined {
  const sizes = setCookies(res)
    .filter((c) => /^sid(\.\d+)?$/.test(c.name) && c.maxAge !== 0)
    .map((c) => c.raw.slice(0, c.raw.indexOf(";")).length - 1);
  return sizes.length ? sizes.reduce((a, b) => a + b, 0) : undefined;
}

eachMode(
  "events: created, regenerated, signed-out and cookie-written, in order",
  async (mode) => {
    const events: SessionEvent[] = [];
    const app = basicApp(mode.options({ onEvent: (e) => void events.push(e) }))
      .post("/regenerate", (c) => {
        c.session.regenerate();
        return c.text("ok");
      })
      .post("/restart", (c) => {
        // Signed out, then written to: a new session replaces the old one.
        c.session = null;
        c.session.userId = "new";
        return c.text("ok");
      });
    const jar = new Jar(app);
    const steps: [string, SessionEvent["type"][]][] = [
      ["/login", ["created", "cookie-written"]],
      ["/read", []],
      ["/count", mode.store ? [] : ["cookie-written"]],
      ["/regenerate", ["regenerated", "cookie-written"]],
      ["/restart", ["signed-out", "created", "cookie-written"]],
      ["/logout", ["signed-out"]],
      ["/logout", []],
    ];
    for (const [path, expected] of steps) {
      events.length = 0;
      const res = await jar.fetch(path, {
        method: path === "/read" ? "GET" : "POST",
      });
      assert.equal(res.status, 200, path);
      assert.deepEqual(events.map((e) => e.type), expected, path);
      const size = written(res);
      const reported = events.find((e) => e.type === "cookie-written");
      assert.deepEqual(
        reported,
        size === undefined
          ? undefined
          : { type: "cookie-written", bytes: size },
        `${path}: the size of the cookie written`,
      );
    }
  },
);

Deno.test("events: a session that fails to save is never reported created", async () => {
  // Store mode: the store's set fails.
  const events: SessionEvent[] = [];
  const failing = {
    get: () => undefined,
    set: () => {
      throw new Error("down");
    },
    delete: () => {},
  };
  const stored = basicApp({ store: failing, onEvent: (e) => events.push(e) });
  assert.equal(
    (await stored.request("/login", { method: "POST" })).status,
    500,
  );
  // Cookie mode: a session too big for its cookie.
  const cookie = new Hono()
    .use(session({ onEvent: (e) => events.push(e) }))
    .post("/big", (c) => {
      c.session.big = "x".repeat(5000);
      return c.text("ok");
    });
  cookie.onError((_, c) => c.text("too big", 500));
  assert.equal((await cookie.request("/big", { method: "POST" })).status, 500);
  assert.deepEqual(events, []);
});

Deno.test("events: userSessions() reports each revoked session once, and checks its options", async () => {
  const store = new MemoryStore({ sweepInterval: 0 });
  const app = new Hono().use(session({ store })).post("/login", (c) => {
    c.session.regenerate({ user: "alice" });
    return c.text("ok");
  });
  const jars = [new Jar(app), new Jar(app), new Jar(app)];
  for (const jar of jars) await jar.fetch("/login", { method: "POST" });
  const events: SessionEvent[] = [];
  const sessions = userSessions(store, { onEvent: (e) => events.push(e) });
  const [one] = await sessions.list("alice");
  assert.equal(await sessions.revoke("alice", one!.handle), true);
  assert.deepEqual(events, [{ type: "revoked" }]);
  assert.equal(await sessions.revoke("alice", one!.handle), false);
  assert.equal(events.length, 1, "nothing more to revoke");
  assert.equal(await sessions.revokeAll("alice"), 2);
  assert.deepEqual(events.map((e) => e.type), [
    "revoked",
    "revoked",
    "revoked",
  ]);
  // Without options, as before.
  assert.equal(await userSessions(store).revokeAll("alice"), 0);
  assert.throws(() => userSessions(store, null as never), /must be an object/);
  assert.throws(
    () => userSessions(store, { onevent: () => {} } as never),
    /unknown option "onevent"/,
  );
  assert.throws(
    () => userSessions(store, { onEvent: "log" as never }),
    /onEvent must be a function/,
  );
});

Deno.test("events: a revoked session that moved to a new id meanwhile is reported once", async () => {
  // A store whose first listing still shows the old id of a session that
  // a regenerate() moved: revokeAll deletes both, the session ends once.
  const inner = new Map<string, SessionRecord>();
  const record: SessionRecord = {
    data: {},
    expires: Date.now() + 60_000,
    user: "bob",
    handle: "h-1",
  };
  inner.set("old", record);
  let listings = 0;
  const store = {
    get: (id: string) => inner.get(id),
    set: (id: string, r: SessionRecord) => void inner.set(id, r),
    delete: (id: string) => void inner.delete(id),
    listUser: () => {
      // The move happens right after the first listing.
      const entries = [...inner].map(([id, r]) => ({ id, record: r }));
      if (listings++ === 0) inner.set("new", record);
      return entries;
    },
  };
  const events: SessionEvent[] = [];
  const sessions = userSessions(store, { onEvent: (e) => events.push(e) });
  assert.equal(await sessions.revokeAll("bob"), 1);
  assert.equal(inner.size, 0);
  assert.deepEqual(events, [{ type: "revoked" }]);
});
