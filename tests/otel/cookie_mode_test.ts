// withTelemetry() on a cookie-mode middleware, read back through the SDK's
// in-memory exporter: every counter and the cookie-size histogram follow
// the events, the app's own onEvent still hears each one, and nothing
// exported holds a cookie, a user id or a value.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { session, type SessionEvent } from "../../mod.ts";
import { withTelemetry } from "../../otel.ts";
import { Jar, SECRET, setCookies, withFakeTime } from "../_helpers.ts";
import { type Metric, TestSdk, total } from "./_sdk.ts";
import { assertNothingSecret } from "./_checks.ts";
import { Browser, ourApp, V1_SECRET, v1App } from "../migrate/_v1.ts";

const USER = "user-5e1f9c0d";
const VALUE = "value-8b2d77aa";
const OLD_SECRET = "an-older-secret-that-is-long-enough-too!!";

function app(sdk: TestSdk, heard: SessionEvent[], extra: object = {}) {
  const options = withTelemetry(
    {
      secret: SECRET,
      onEvent: (event: SessionEvent) => heard.push(event),
      ...extra,
    },
    sdk,
  );
  return new Hono()
    .use(session<{ userId?: string; note?: string }>(options))
    .post("/login", (c) => {
      c.session.regenerate();
      c.session.userId = USER;
      return c.text("ok");
    })
    .post("/note", (c) => {
      c.session.note = VALUE + "x".repeat(Number(c.req.query("pad") ?? 0));
      return c.text("ok");
    })
    .get("/read", (c) => c.text(c.session.userId ?? "-"))
    .post("/logout", (c) => {
      c.session = null;
      return c.text("bye");
    });
}

/** The session cookie's size as browsers count it, for each write seen. */
function sessionCookieSizes(res: Response): number[] {
  return setCookies(res)
    .filter((c) => /^sid(\.\d+)?$/.test(c.name) && c.maxAge !== 0)
    .map((c) => c.raw.slice(0, c.raw.indexOf(";")).length - 1);
}

function sizeHistogram(metrics: Map<string, Metric>) {
  const points = metrics.get("hono_session.cookie.size")?.points ?? [];
  assert.equal(points.length, 1, "one series: no attributes");
  return points[0]!;
}

Deno.test("otel, cookie mode: created, regenerated, signed out, cookie size; the app's onEvent hears every event", async () => {
  const sdk = new TestSdk();
  try {
    const heard: SessionEvent[] = [];
    const jar = new Jar(app(sdk, heard));
    const sizes: number[] = [];
    const send = async (path: string, method = "POST") => {
      const res = await jar.fetch(path, { method });
      assert.equal(res.status, 200, path);
      sizes.push(...sessionCookieSizes(res));
    };
    await send("/login"); // created
    await send("/note"); // a write
    const cookie = jar.get("sid")!;
    await send("/read", "GET"); // nothing
    await send("/login"); // regenerated
    await send("/logout"); // signed out
    await send("/login"); // created again

    const m = await sdk.metrics();
    const cookieMode = { "hono_session.mode": "cookie" };
    assert.equal(total(m, "hono_session.sessions.created", cookieMode), 2);
    assert.equal(total(m, "hono_session.sessions.regenerated", cookieMode), 1);
    assert.equal(total(m, "hono_session.sessions.signed_out", cookieMode), 1);
    // Every metric of the table, with its unit and description.
    assert.deepEqual(
      [...m.values()].map((x) => [x.name, x.unit]).sort(),
      [
        ["hono_session.cookie.size", "By"],
        ["hono_session.sessions.created", "{session}"],
        ["hono_session.sessions.regenerated", "{session}"],
        ["hono_session.sessions.signed_out", "{session}"],
      ],
    );
    for (const metric of m.values()) assert.ok(metric.description.length > 20);

    // One sample per session cookie written, of its exact size.
    assert.equal(sizes.length, 4);
    const h = sizeHistogram(m);
    assert.equal(h.count, sizes.length);
    assert.equal(h.sum, sizes.reduce((a, b) => a + b, 0));
    assert.equal(h.max, Math.max(...sizes));
    assert.ok(h.boundaries!.includes(4096), "a bucket ends at the limit");

    // The app's listener heard the same events, in order.
    assert.deepEqual(heard.map((e) => e.type), [
      "created",
      "cookie-written",
      "cookie-written",
      "regenerated",
      "cookie-written",
      "signed-out",
      "created",
      "cookie-written",
    ]);
    assert.deepEqual(
      heard.flatMap((e) => e.type === "cookie-written" ? [e.bytes] : []),
      sizes,
    );
    // No store: no spans.
    assert.deepEqual(sdk.spans(), []);
    await assertNothingSecret(sdk, [USER, VALUE, cookie, SECRET]);
  } finally {
    await sdk.shutdown();
  }
});

Deno.test("otel, cookie mode: refused cookies are counted by reason", async () => {
  const sdk = new TestSdk();
  try {
    const heard: SessionEvent[] = [];
    const a = app(sdk, heard);
    const jar = new Jar(a);
    await jar.fetch("/login", { method: "POST" });
    const seal = jar.get("sid")!;
    const tampered = seal.slice(0, -6) +
      (seal.endsWith("AAAAAA") ? "BBBBBB" : "AAAAAA");
    const foreign = await (async () => {
      const other = new Jar(app(new TestSdk(), [], { secret: OLD_SECRET }));
      await other.fetch("/login", { method: "POST" });
      return other.get("sid")!;
    })();
    const cookies: [string, string][] = [
      ["bad-seal", `sid=${encodeURIComponent(tampered)}`],
      ["bad-seal", `sid=${encodeURIComponent(foreign)}`],
      ["malformed", "sid=not-a-seal"],
      [
        "duplicate",
        `sid=${encodeURIComponent(seal)}; sid=${encodeURIComponent(seal)}`,
      ],
      ["oversized", `sid=${"a".repeat(5000)}`],
    ];
    for (const [reason, cookie] of cookies) {
      const res = await a.request("/read", { headers: { cookie } });
      assert.equal(await res.text(), "-", `${reason}: no session`);
    }
    const m = await sdk.metrics();
    const refused = (reason: string) =>
      total(m, "hono_session.cookies.refused", {
        "hono_session.mode": "cookie",
        "hono_session.refusal.reason": reason,
      });
    assert.equal(refused("bad-seal"), 2);
    assert.equal(refused("malformed"), 1);
    assert.equal(refused("duplicate"), 1);
    assert.equal(refused("oversized"), 1);
    assert.equal(total(m, "hono_session.cookies.refused"), 5);
    // The counter follows the events, reason by reason.
    const events = heard.filter((e) => e.type === "invalid-cookie");
    assert.equal(events.length, 5);
    await assertNothingSecret(sdk, [seal, tampered, foreign, USER]);
  } finally {
    await sdk.shutdown();
  }
});

Deno.test("otel, cookie mode: expired sessions are counted by deadline (lifetime, idle, absolute apart)", async () => {
  const sdk = new TestSdk();
  try {
    await withFakeTime(async (clock) => {
      const heard: SessionEvent[] = [];
      const timed = app(sdk, heard, {
        maxAge: 3600,
        idleTimeout: 600,
        absoluteTimeout: 1800,
      });
      // Idle: unused for longer than idleTimeout.
      const idle = new Jar(timed);
      await idle.fetch("/login", { method: "POST" });
      // Absolute: used every 500 s, so never idle, until 1800 s are up.
      const busy = new Jar(timed);
      await busy.fetch("/login", { method: "POST" });
      for (let t = 500; t <= 1500; t += 500) {
        clock.tick(500_000);
        assert.equal(await (await busy.fetch("/read")).text(), USER, `t=${t}`);
        if (t === 500) {
          assert.equal(await (await idle.fetch("/read")).text(), USER);
        }
      }
      // idle was last used at t=500: 1000 s ago.
      assert.equal(await (await idle.fetch("/read")).text(), "-");
      clock.tick(301_000); // t = 1801
      assert.equal(await (await busy.fetch("/read")).text(), "-");
      // Lifetime: maxAge alone.
      const short = new Jar(app(sdk, heard, { maxAge: 60 }));
      await short.fetch("/login", { method: "POST" });
      clock.tick(61_000);
      assert.equal(await (await short.fetch("/read")).text(), "-");
      assert.deepEqual(
        heard.flatMap((e) => e.type === "expired" ? [e.reason] : []),
        ["idle", "absolute", "lifetime"],
      );
    });
    const m = await sdk.metrics();
    const expired = (reason: string) =>
      total(m, "hono_session.sessions.expired", {
        "hono_session.mode": "cookie",
        "hono_session.expiry.reason": reason,
      });
    assert.equal(expired("idle"), 1);
    assert.equal(expired("absolute"), 1);
    assert.equal(expired("lifetime"), 1);
    await assertNothingSecret(sdk, [USER]);
  } finally {
    await sdk.shutdown();
  }
});

Deno.test("otel, cookie mode: a session in chunks is measured whole; cookies sealed with an older secret are counted", async () => {
  const sdk = new TestSdk();
  try {
    const heard: SessionEvent[] = [];
    const big = new Jar(app(sdk, heard, { cookieChunks: true }));
    await big.fetch("/login", { method: "POST" });
    const res = await big.fetch("/note?pad=6000", { method: "POST" });
    const chunks = sessionCookieSizes(res);
    assert.ok(chunks.length >= 2, "spread over chunks");
    const h = sizeHistogram(await sdk.metrics());
    assert.equal(h.max, chunks.reduce((a, b) => a + b, 0));
    assert.ok(h.max! > 4096);

    // A cookie sealed with OLD_SECRET, read by a middleware that lists it
    // second: accepted, and counted as such.
    const before = new Jar(app(new TestSdk(), [], { secret: OLD_SECRET }));
    await before.fetch("/login", { method: "POST" });
    const rotating = app(sdk, heard, { secret: [SECRET, OLD_SECRET] });
    const read = await rotating.request("/read", {
      headers: { cookie: before.header() },
    });
    assert.equal(await read.text(), USER);
    assert.equal(
      total(await sdk.metrics(), "hono_session.cookies.old_secret", {
        "hono_session.secret.index": 1,
      }),
      1,
    );
    await assertNothingSecret(sdk, [USER, VALUE, OLD_SECRET]);
  } finally {
    await sdk.shutdown();
  }
});

Deno.test("otel: sessions of hono-session 1.x (migrateFrom) are counted as loaded, then moved", async () => {
  const sdk = new TestSdk();
  try {
    // Signed in on the real hono-session 1.2.0, then served by this one.
    const browser = new Browser(v1App({ secret: V1_SECRET }));
    assert.equal(await browser.step("POST /login?user=ada"), "200 ok");
    await browser.step("GET /state");
    const v1Cookie = browser.cookies.get("sid")!;
    browser.app = ourApp(
      withTelemetry({ secret: V1_SECRET, migrateFrom: "hono-session@1" }, sdk),
    );
    assert.equal(await browser.step("GET /me"), "200 ada");
    assert.equal(await browser.step("POST /count"), "200 1");
    assert.equal(await browser.step("GET /me"), "200 ada", "now one of ours");
    const m = await sdk.metrics();
    const legacy = (step: string) =>
      total(m, "hono_session.legacy_sessions", {
        "hono_session.mode": "cookie",
        "hono_session.legacy.from": "hono-session@1",
        "hono_session.legacy.step": step,
      });
    assert.equal(legacy("loaded"), 2);
    assert.equal(legacy("moved"), 1);
    assert.equal(
      total(m, "hono_session.sessions.created"),
      0,
      "moved, not new",
    );
    await assertNothingSecret(sdk, [v1Cookie, V1_SECRET]);
  } finally {
    await sdk.shutdown();
  }
});
