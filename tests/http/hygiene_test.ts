// Response hygiene, hashed ids at rest, and events that never leak.
import assert from "node:assert/strict";
import type { SessionEvent } from "../../mod.ts";
import { basicApp, eachMode, Jar, storeKey } from "../_helpers.ts";

eachMode(
  "responses that set or clear the cookie are private, no-store; the app's own Cache-Control wins",
  async (mode) => {
    const app = basicApp(mode.options()).post("/cached", (c) => {
      c.header("Cache-Control", "public, max-age=60");
      c.session.regenerate(); // a new cookie in both modes
      c.session.userId = "cache";
      return c.text("ok");
    });
    const jar = new Jar(app);
    const login = await jar.fetch("/login", { method: "POST" });
    assert.equal(login.headers.get("cache-control"), "private, no-store");
    const read = await jar.fetch("/read");
    assert.equal(
      read.headers.get("cache-control"),
      null,
      "a response that sets no cookie is left alone",
    );
    const own = await jar.fetch("/cached", { method: "POST" });
    assert.equal(own.headers.get("cache-control"), "public, max-age=60");
    assert.equal(jar.last.length, 2);
    const logout = await jar.fetch("/logout", { method: "POST" });
    assert.equal(logout.headers.get("cache-control"), "private, no-store");
  },
);

Deno.test("store mode: a leaked store gives no session: its keys are not valid cookies", async () => {
  const store = new Map();
  const jar = new Jar(basicApp({ store }));
  await jar.fetch("/login", { method: "POST" });
  const [key] = [...store.keys()];
  assert.notEqual(key, jar.get("sid"));
  assert.match(key, /^[A-Za-z0-9_-]{43}$/);
  const res = await basicApp({ store }).request("/read", {
    headers: { cookie: `sid=${key}` },
  });
  assert.equal(await res.text(), "-");
});

eachMode(
  "events report what happened and never carry a token, a key or a value",
  async (mode) => {
    const events: SessionEvent[] = [];
    const secrets: string[] = [];
    const app = basicApp(
      mode.options({ maxAge: 60, onEvent: (e) => void events.push(e) }),
    );
    const jar = new Jar(app);
    await jar.fetch("/login?user=secret-user-name", { method: "POST" });
    const good = jar.get("sid")!;
    // The cookie's value, the id's hash (the store key), and a value.
    secrets.push(good, "secret-user-name");
    if (mode.store) secrets.push(storeKey(good));
    const tries: [string, SessionEvent | undefined][] = [
      [`sid=${good}`, undefined],
      [
        `sid=${good.slice(0, -3)}abc`,
        mode.store
          ? { type: "unknown-id" }
          : { type: "invalid-cookie", reason: "bad-seal" },
      ],
      [`sid=${good}; sid=${good}`, {
        type: "invalid-cookie",
        reason: "duplicate",
      }],
      [`sid=${"x".repeat(5000)}`, {
        type: "invalid-cookie",
        reason: "oversized",
      }],
      ["sid=not-a-session", { type: "invalid-cookie", reason: "malformed" }],
      ['sid="', { type: "invalid-cookie", reason: "malformed" }],
    ];
    for (const [cookie, expected] of tries) {
      events.length = 0;
      const res = await app.request("/read", { headers: { cookie } });
      assert.equal(res.status, 200);
      assert.deepEqual(events, expected ? [expected] : [], cookie.slice(0, 60));
    }
    const all: SessionEvent[] = [];
    const logging = basicApp(
      mode.options({ maxAge: 60, onEvent: (e) => void all.push(e) }),
    );
    for (const [cookie] of tries) {
      await logging.request("/read", { headers: { cookie } });
    }
    const text = JSON.stringify(all);
    for (const secret of secrets) {
      assert.ok(
        !text.includes(secret.slice(0, 20)),
        "no token or value in events",
      );
    }
  },
);
