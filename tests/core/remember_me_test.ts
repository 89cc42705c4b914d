// "Remember me": persistent cookies or browser-session cookies, by default
// (the persistent option) and per session (regenerate/renew options), in
// both modes; the server deadline holds either way.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { session, type SessionOptions } from "../../mod.ts";
import { mergeRecords } from "../../_core/merge.ts";
import { eachMode, Jar, SECRET, withFakeTime } from "../_helpers.ts";

const DAY = 24 * 60 * 60;

function app(options: SessionOptions) {
  const app = new Hono()
    .use(session<{ userId?: string; n?: number }>(options))
    .get("/read", (c) => c.text(c.session.userId ?? "-"))
    // ?remember=1 / 0 chooses; without it the session makes no choice.
    .post("/signin", (c) => {
      const remember = c.req.query("remember");
      c.session.regenerate(
        remember === undefined ? undefined : { persistent: remember === "1" },
      );
      c.session.userId = "ada";
      return c.text("ok");
    })
    .post("/renew", (c) => {
      c.session.renew(Number(c.req.query("days") ?? 1) * DAY, {
        persistent: c.req.query("remember") === "1",
      });
      return c.text("ok");
    })
    .post("/count", (c) => {
      c.session.n = (c.session.n ?? 0) + 1;
      return c.text(String(c.session.n));
    })
    .post("/logout", (c) => {
      c.session = null;
      return c.text("bye");
    })
    .post("/misuse", (c) => {
      const options = JSON.parse(c.req.query("options")!);
      const method = c.req.query("method");
      if (method === "renew") c.session.renew(60, options);
      // The options where the lifetime goes, a natural slip.
      else if (method === "renew-first") c.session.renew(options);
      else c.session.regenerate(options);
      return c.text("ok");
    });
  app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500));
  return app;
}

/** The lifetime attributes of the last response's two cookies. */
function lifetimes(jar: Jar): (number | "browser-session")[] {
  assert.equal(jar.last.length, 2, "both cookies are sent");
  return jar.last.map((c) => {
    if (c.maxAge !== undefined) return c.maxAge;
    assert.equal(c.attributes.expires, undefined, "no Expires either");
    return "browser-session";
  });
}

eachMode("persistent cookies by default: both carry Max-Age", async (mode) => {
  const jar = new Jar(app(mode.options({ maxAge: DAY })));
  await jar.fetch("/signin", { method: "POST" });
  assert.deepEqual(lifetimes(jar), [DAY, DAY]);
});

eachMode(
  "persistent: false gives browser-session cookies, and the server deadline still ends the session",
  async (mode) => {
    await withFakeTime(async (clock) => {
      const jar = new Jar(
        app(mode.options({ maxAge: 600, persistent: false })),
      );
      await jar.fetch("/signin", { method: "POST" });
      assert.deepEqual(lifetimes(jar), ["browser-session", "browser-session"]);
      if (mode.store) {
        const record = await mode.record(jar.get("sid")!);
        assert.equal(record?.persistent, undefined, "no choice was made");
      }
      clock.tick(300_000);
      await jar.fetch("/count", { method: "POST" });
      if (mode.store) {
        assert.equal(
          jar.last.length,
          0,
          "same id, no lifetime: nothing to send",
        );
      } else {
        assert.deepEqual(lifetimes(jar), [
          "browser-session",
          "browser-session",
        ]);
      }
      clock.tick(299_999);
      assert.deepEqual(await jar.text("/read"), [200, "ada"]);
      // The browser was never closed and still sends the cookie: the
      // server refuses it at the deadline all the same.
      clock.tick(1);
      assert.deepEqual(await jar.text("/read"), [200, "-"]);
    });
  },
);

eachMode(
  "remember me at sign-in: the session's choice beats the default and is kept across requests",
  async (mode) => {
    const remembered = new Jar(
      app(mode.options({ maxAge: DAY, persistent: false })),
    );
    await remembered.fetch("/signin?remember=1", { method: "POST" });
    assert.deepEqual(lifetimes(remembered), [DAY, DAY]);
    await remembered.fetch("/renew?days=2&remember=1", { method: "POST" });
    assert.deepEqual(lifetimes(remembered), [2 * DAY, 2 * DAY]);
    if (!mode.store) {
      await remembered.fetch("/count", { method: "POST" });
      const [sid] = lifetimes(remembered);
      assert.ok(typeof sid === "number" && sid > DAY, "still persistent");
    } else {
      const record = await mode.record(remembered.get("sid")!);
      assert.equal(record?.persistent, true);
    }
    // Forgetting: the same id, but the browser must be told the cookie no
    // longer outlives it.
    await remembered.fetch("/renew?days=2&remember=0", { method: "POST" });
    assert.deepEqual(lifetimes(remembered), [
      "browser-session",
      "browser-session",
    ]);

    const forgotten = new Jar(app(mode.options({ maxAge: DAY })));
    await forgotten.fetch("/signin?remember=0", { method: "POST" });
    assert.deepEqual(lifetimes(forgotten), [
      "browser-session",
      "browser-session",
    ]);
    await forgotten.fetch("/renew?days=3&remember=0", { method: "POST" });
    if (mode.store) {
      assert.equal(forgotten.last.length, 0, "same id, still no Max-Age");
      const record = await mode.record(forgotten.get("sid")!);
      assert.equal(record?.persistent, false);
      assert.ok(record!.expires > Date.now() + 2.9 * DAY * 1000);
    } else {
      assert.deepEqual(lifetimes(forgotten), [
        "browser-session",
        "browser-session",
      ]);
    }
    // Changing one's mind later: renew(maxAge, { persistent: true }).
    await forgotten.fetch("/renew?days=1&remember=1", { method: "POST" });
    assert.deepEqual(lifetimes(forgotten), [DAY, DAY]);
  },
);

eachMode(
  "browser-session cookies with an idle timeout: activity moves the server deadline",
  async (mode) => {
    await withFakeTime(async (clock) => {
      const jar = new Jar(
        app(mode.options({ idleTimeout: 100, persistent: false })),
      );
      await jar.fetch("/signin", { method: "POST" });
      for (let i = 0; i < 5; i++) {
        clock.tick(60_000);
        assert.deepEqual(await jar.text("/read"), [200, "ada"], `read ${i}`);
        if (mode.store) assert.equal(jar.last.length, 0, "nothing to send");
        else {
          assert.deepEqual(lifetimes(jar), [
            "browser-session",
            "browser-session",
          ]);
        }
      }
      clock.tick(100_000);
      assert.deepEqual(await jar.text("/read"), [200, "-"]);
    });
  },
);

eachMode("sign-out expires both cookies either way", async (mode) => {
  const jar = new Jar(app(mode.options({ persistent: false })));
  await jar.fetch("/signin", { method: "POST" });
  await jar.fetch("/logout", { method: "POST" });
  assert.deepEqual(jar.last.map((c) => c.maxAge), [0, 0]);
  assert.equal(jar.cookies.size, 0);
});

eachMode(
  "mistakes in the session's choices throw a TypeError",
  async (mode) => {
    const jar = new Jar(app(mode.options()));
    await jar.fetch("/signin", { method: "POST" });
    const cases: [string, string, RegExp][] = [
      ["regenerate", '{"persistant":true}', /unknown option "persistant"/],
      ["regenerate", '"yes"', /options must be a plain object/],
      ["regenerate", "[]", /options must be a plain object/],
      ["regenerate", '{"persistent":"yes"}', /persistent must be true/],
      ["renew", '{"user":"u-1"}', /regenerate\(\{ user \}\)/],
      [
        "renew-first",
        '{"persistent":true}',
        /renew\(undefined, \{ persistent: true \}\)/,
      ],
      [
        "regenerate",
        '{"user":"u-1"}',
        mode.store ? /^ok$/ : /only in store mode/,
      ],
      ["regenerate", '{"user":""}', mode.store ? /1 to 512/ : /store mode/],
      [
        "regenerate",
        JSON.stringify({ user: "u".repeat(513) }),
        mode.store ? /1 to 512/ : /store mode/,
      ],
      // Text a store would not keep exactly: a lone surrogate, a NUL.
      [
        "regenerate",
        '{"user":"mallory\\ud800"}',
        mode.store ? /well-formed text without NUL/ : /store mode/,
      ],
      [
        "regenerate",
        '{"user":"a\\u0000b"}',
        mode.store ? /well-formed text without NUL/ : /store mode/,
      ],
    ];
    for (const [method, options, message] of cases) {
      const [status, text] = await jar.text(
        `/misuse?method=${method}&options=${encodeURIComponent(options)}`,
        { method: "POST" },
      );
      assert.match(text, message, `${method}(${options})`);
      assert.equal(status, message.source === "^ok$" ? 200 : 500);
      if (status === 500) assert.match(text, /^TypeError/);
    }
  },
);

Deno.test("session(): persistent must be a boolean", () => {
  for (const persistent of ["false", 0, null]) {
    assert.throws(
      () => session({ secret: SECRET, persistent: persistent as never }),
      (e: unknown) =>
        e instanceof TypeError && /persistent/.test((e as Error).message),
      String(persistent),
    );
  }
  session({ secret: SECRET, persistent: false });
});

Deno.test("merge: the user tie and the cookie choice follow the request that changed them", () => {
  const base = { data: { a: 1 }, expires: 1000, created: 0 };
  const ours = { ...base, persistent: true, user: "u-1", seen: 10 };
  const theirs = { ...base, data: { a: 1, b: 2 }, seen: 20 };
  assert.deepEqual(mergeRecords(base, ours, theirs), {
    data: { a: 1, b: 2 },
    expires: 1000,
    created: 0,
    user: "u-1",
    persistent: true,
    seen: 20,
  });
  assert.deepEqual(mergeRecords(base, theirs, ours), {
    data: { a: 1, b: 2 },
    expires: 1000,
    created: 0,
    user: "u-1",
    persistent: true,
    seen: 20,
  });
  // Both chose: the request saving now wins.
  const mine = { ...base, persistent: false };
  assert.equal(mergeRecords(base, mine, ours)?.persistent, false);
});

Deno.test("regenerate()/renew() options: only a plain object's own data properties count", async () => {
  class WithGetter {
    get user(): string {
      return "alice";
    }
  }
  const odd: [string, unknown][] = [
    ["a Map", new Map([["user", "alice"]])],
    ["a Date", new Date()],
    ["inherited keys", Object.create({ user: "alice" })],
    ["a class with a getter", new WithGetter()],
    ["an own getter", Object.defineProperty({}, "user", { get: () => "a" })],
  ];
  const store = new Map();
  let given: unknown;
  const app = new Hono()
    .use(session({ store }))
    .post("/", (c) => {
      c.session.regenerate(given as never);
      return c.text("ok");
    });
  app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500));
  for (const [what, options] of odd) {
    given = options;
    const res = await app.request("/", { method: "POST" });
    assert.equal(res.status, 500, what);
    assert.match(
      await res.text(),
      /^TypeError: c\.session\.regenerate\(\): (options must be a plain object|option "user" must be a plain value)/,
      what,
    );
  }
  assert.equal(store.size, 0, "nothing was saved");
  given = Object.assign(Object.create(null), { persistent: true });
  assert.equal((await app.request("/", { method: "POST" })).status, 200);
});

Deno.test("browser-session cookies in chunks: every chunk and the exists cookie lack Max-Age; the names not used are expired", async () => {
  const app = new Hono()
    .use(session<{ blob?: string }>({
      secret: SECRET,
      cookieChunks: true,
      persistent: false,
    }))
    .post("/big", (c) => {
      const bytes = crypto.getRandomValues(new Uint8Array(4500));
      c.session.blob = btoa(String.fromCharCode(...bytes));
      return c.text("ok");
    })
    .post("/remember", (c) => {
      c.session.renew(DAY, { persistent: true });
      return c.text("ok");
    });
  const jar = new Jar(app);
  await jar.fetch("/big", { method: "POST" });
  const sent = new Map(jar.last.map((c) => [c.name, c.maxAge]));
  const kept = [...sent].filter(([, age]) => age === undefined).map(([n]) => n);
  const expired = [...sent].filter(([, age]) => age === 0).map(([n]) => n);
  assert.equal(kept.length + expired.length, sent.size, "no Max-Age above 0");
  assert.ok(kept.includes("sid.0") && kept.includes("sid.1"), kept.join());
  assert.ok(kept.includes("sx"));
  assert.ok(expired.includes("sid"), "the plain name is expired");
  await jar.fetch("/remember", { method: "POST" });
  const now = new Map(jar.last.map((c) => [c.name, c.maxAge]));
  assert.equal(now.get("sid.0"), DAY);
  assert.equal(now.get("sid.1"), DAY);
  assert.equal(now.get("sx"), DAY);
});
