// The session lifecycle through a real Hono app, in cookie mode, with a Map
// store and with an asynchronous custom store.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { session } from "../../mod.ts";
import {
  basicApp,
  eachMode,
  Jar,
  setCookies,
  withFakeTime,
} from "../_helpers.ts";

const DAY = 24 * 60 * 60;

eachMode(
  "login sets both cookies with safe defaults, later requests read the session",
  async (mode) => {
    const jar = new Jar(basicApp(mode.options()));
    assert.deepEqual(await jar.text("/read"), [200, "-"]);
    assert.equal(
      jar.last.length,
      0,
      "a request that writes nothing sets no cookie",
    );

    assert.deepEqual(await jar.text("/login?user=ada", { method: "POST" }), [
      200,
      "ok",
    ]);
    const [sid, sx] = jar.last;
    assert.equal(sid.name, "sid");
    assert.equal(sid.maxAge, DAY);
    assert.equal(sid.attributes.httponly, true);
    assert.equal(sid.attributes.secure, true);
    assert.equal(sid.attributes.path, "/");
    assert.equal(sid.attributes.samesite, "Lax");
    assert.equal(sx.name, "sx");
    assert.equal(sx.value, "1");
    assert.equal(sx.maxAge, DAY);
    assert.equal(
      sx.attributes.httponly,
      undefined,
      "the exists cookie is never HttpOnly",
    );
    assert.equal(sx.attributes.secure, true);
    if (mode.store) {
      assert.match(
        sid.value,
        /^[A-Za-z0-9_-]{43}$/,
        "store mode: the cookie is a random id",
      );
      assert.deepEqual((await mode.record(sid.value))?.data, { userId: "ada" });
      assert.equal(mode.size(), 1);
    } else {
      assert.match(sid.value, /^Fe26\.2\*/, "cookie mode: an iron seal");
      // Encrypted: a distinctive value never shows in the cookie. (A short
      // one like "ada" can appear in the hex salts by chance.)
      const secretJar = new Jar(basicApp(mode.options()));
      await secretJar.fetch("/login?user=plaintext-marker", { method: "POST" });
      assert.ok(
        !secretJar.get("sid")!.includes("plaintext"),
        "the value is encrypted",
      );
    }
    assert.deepEqual(await jar.text("/read"), [200, "ada"]);
    assert.equal(jar.last.length, 0);
  },
);

eachMode(
  "c.get('session'), c.var.session and c.set('session', null) work like c.session",
  async (mode) => {
    const app = new Hono()
      .use(session<{ userId?: string }>(mode.options()))
      .post("/in", (c) => {
        c.get("session").userId = "grace";
        return c.text("ok");
      })
      .get(
        "/read",
        (c) => c.text(`${c.var.session.userId}|${c.get("session").userId}`),
      )
      .post("/out", (c) => {
        c.set("session", null);
        return c.text("bye");
      });
    const jar = new Jar(app);
    await jar.fetch("/in", { method: "POST" });
    assert.deepEqual(await jar.text("/read"), [200, "grace|grace"]);
    await jar.fetch("/out", { method: "POST" });
    assert.deepEqual(jar.last.map((c) => [c.name, c.value, c.maxAge]), [[
      "sid",
      "",
      0,
    ], ["sx", "", 0]]);
    assert.equal(mode.size(), 0);
    assert.deepEqual(await jar.text("/read"), [200, "undefined|undefined"]);
  },
);

eachMode(
  "saving: reading, or writing the same value, sends no Set-Cookie and stores nothing",
  async (mode) => {
    let writes = 0;
    const options = mode.options();
    const inner = options.store;
    if (inner) {
      options.store = {
        get: (id, c) => inner.get(id, c),
        set: (id, r, c) => (writes++, inner.set(id, r, c)),
        delete: (id, c) => inner.delete(id, c),
      };
    }
    const app = basicApp(options)
      .post("/same", (c) => {
        const same = c.session.userId;
        c.session.userId = same; // the same value again
        c.session.list = undefined; // an absent key stays absent
        return c.text("same");
      })
      .get("/touch", (c) => c.text(String(c.session.isNew)));
    const jar = new Jar(app);
    // A new session nobody wrote to is never stored, even when handlers read it.
    assert.deepEqual(await jar.text("/touch"), [200, "true"]);
    assert.equal(jar.last.length, 0);
    assert.equal(mode.size(), 0);
    assert.equal(writes, 0);

    await jar.fetch("/login", { method: "POST" });
    assert.equal(jar.last.length, 2);
    const afterLogin = writes;
    for (const path of ["/read", "/same", "/touch"]) {
      const res = await jar.fetch(path, {
        method: path === "/same" ? "POST" : "GET",
      });
      assert.equal(res.status, 200);
      assert.equal(
        res.headers.get("set-cookie"),
        null,
        `${path} sets no cookie`,
      );
    }
    assert.equal(writes, afterLogin, "no store write for unchanged sessions");
  },
);

eachMode(
  "expiry: expiry is exact, from a timestamp kept with the data",
  async (mode) => {
    await withFakeTime(async (clock) => {
      const jar = new Jar(basicApp(mode.options({ maxAge: 600 })));
      await jar.fetch("/login", { method: "POST" });
      assert.equal(jar.last[0].maxAge, 600);
      const cookie = jar.header();
      clock.tick(600_000 - 1);
      assert.deepEqual(
        await jar.text("/read"),
        [200, "ada"],
        "valid one ms before expiry",
      );
      clock.tick(1);
      // Within iron's 60 s clock-skew grace, yet gone.
      assert.deepEqual(await jar.text("/read", { headers: { cookie } }), [
        200,
        "-",
      ]);
      clock.tick(30_000);
      assert.deepEqual(await jar.text("/read", { headers: { cookie } }), [
        200,
        "-",
      ]);
      if (mode.store) {
        assert.equal(mode.size(), 0, "the expired entry was removed when met");
      }
    });
  },
);

eachMode(
  "expiry: writing to a session keeps its original expiry",
  async (mode) => {
    await withFakeTime(async (clock) => {
      const jar = new Jar(basicApp(mode.options({ maxAge: 100 })));
      await jar.fetch("/count", { method: "POST" });
      clock.tick(60_000);
      assert.deepEqual(await jar.text("/count", { method: "POST" }), [
        200,
        "2",
      ]);
      if (mode.store) {
        // Same id, same deadline: the browser's cookie already says it all.
        assert.deepEqual(jar.last, [], "no Set-Cookie for a plain write");
      } else {
        assert.equal(jar.last[0]!.maxAge, 40, "Max-Age is the time left");
      }
      clock.tick(40_000);
      assert.deepEqual(
        await jar.text("/count", { method: "POST" }),
        [200, "1"],
        "a new session",
      );
    });
  },
);

eachMode(
  "renew: renew(maxAge) moves the expiry and the cookie's Max-Age, and forces a write",
  async (mode) => {
    await withFakeTime(async (clock) => {
      const app = basicApp(mode.options({ maxAge: 100 }))
        .post("/renew", (c) => {
          const seconds = c.req.query("s");
          c.session.renew(seconds ? Number(seconds) : undefined);
          return c.text("renewed");
        });
      const jar = new Jar(app);
      await jar.fetch("/login", { method: "POST" });
      const before = jar.get("sid");
      clock.tick(90_000);
      await jar.fetch("/renew?s=1000", { method: "POST" });
      assert.deepEqual(jar.last.map((c) => [c.name, c.maxAge]), [
        ["sid", 1000],
        ["sx", 1000],
      ]);
      if (mode.store) {
        assert.equal(jar.get("sid"), before, "renew keeps the id");
        assert.equal(
          (await mode.record(jar.get("sid")!))?.expires,
          clock.now() + 1_000_000,
        );
      }
      clock.tick(500_000);
      assert.deepEqual(
        await jar.text("/read"),
        [200, "ada"],
        "alive past the first expiry",
      );
      await jar.fetch("/renew", { method: "POST" });
      assert.equal(
        jar.last[0].maxAge,
        100,
        "renew() with no argument uses the maxAge option",
      );
      clock.tick(100_000);
      assert.deepEqual(await jar.text("/read"), [200, "-"]);
    });
  },
);

eachMode(
  "renew: renew() refuses a lifetime that is not above 0 and at most 400 days",
  async (mode) => {
    const app = basicApp(mode.options()).post("/renew", (c) => {
      try {
        c.session.renew(Number(c.req.query("s")));
        return c.text("renewed");
      } catch (error) {
        return c.text(
          `${(error as Error).name}: ${(error as Error).message}`,
          400,
        );
      }
    });
    const jar = new Jar(app);
    for (const s of ["0", "-5", "NaN", "Infinity", String(400 * DAY + 1)]) {
      const [status, body] = await jar.text(`/renew?s=${s}`, {
        method: "POST",
      });
      assert.equal(status, 400);
      assert.match(
        body,
        /^RangeError: renew\(maxAge\) must be a number of seconds above 0/,
      );
    }
    assert.equal(
      (await jar.fetch(`/renew?s=${400 * DAY}`, { method: "POST" })).status,
      200,
    );
    assert.equal(jar.last[0].maxAge, 400 * DAY);
  },
);

eachMode(
  "regenerate: regenerate() gives a new id, kills the old one, keeps the data, restarts the expiry",
  async (mode) => {
    await withFakeTime(async (clock) => {
      const app = basicApp(mode.options({ maxAge: 100 })).post(
        "/regen",
        (c) => {
          c.session.regenerate();
          return c.text("regenerated");
        },
      );
      const jar = new Jar(app);
      await jar.fetch("/login?user=lin", { method: "POST" });
      const oldCookie = jar.header();
      const oldValue = jar.get("sid");
      clock.tick(60_000);
      await jar.fetch("/regen", { method: "POST" });
      assert.equal(jar.last[0].maxAge, 100, "the expiry restarts");
      assert.notEqual(jar.get("sid"), oldValue);
      assert.deepEqual(
        await jar.text("/read"),
        [200, "lin"],
        "the data moved along",
      );
      if (mode.store) {
        assert.equal(
          mode.size(),
          1,
          "the old entry was deleted, not left behind",
        );
        assert.deepEqual(
          await jar.text("/read", { headers: { cookie: oldCookie } }),
          [200, "-"],
        );
      }
      clock.tick(60_000);
      assert.deepEqual(
        await jar.text("/read"),
        [200, "lin"],
        "alive past the first expiry",
      );
    });
  },
);

eachMode(
  "fixation: an id the store does not know is never adopted",
  async (mode) => {
    const jar = new Jar(basicApp(mode.options()));
    const planted = "A".repeat(43);
    jar.cookies.set("sid", planted);
    assert.deepEqual(await jar.text("/read"), [200, "-"]);
    await jar.fetch("/login", { method: "POST" });
    assert.notEqual(jar.get("sid"), planted);
    assert.equal(await mode.record(planted), undefined);
    assert.equal(mode.size(), 1);
  },
  "store",
);

eachMode(
  "failed handler: a handler that throws, or answers 5xx, persists nothing",
  async (mode) => {
    const app = basicApp(mode.options())
      .post("/throw", (c) => {
        c.session.userId = "mallory";
        c.session.flash("msg", "never");
        throw new Error("boom");
      })
      .post("/503", (c) => {
        c.session.userId = "mallory";
        return c.text("down", 503);
      })
      .post("/logout-throw", (c) => {
        c.session = null;
        throw new Error("boom");
      })
      .post("/flash", (c) => {
        c.session.flash("msg", "hello");
        return c.text("ok");
      })
      .get("/flash-fail", (c) => c.text(`${c.session.msg}`, 500));
    const jar = new Jar(app);
    for (const path of ["/throw", "/503"]) {
      const res = await jar.fetch(path, { method: "POST" });
      assert.ok(res.status >= 500);
      assert.equal(res.headers.get("set-cookie"), null);
      assert.equal(mode.size(), 0);
    }
    await jar.fetch("/login", { method: "POST" });
    const size = mode.size();
    for (const path of ["/throw", "/503", "/logout-throw"]) {
      const res = await jar.fetch(path, { method: "POST" });
      assert.equal(res.headers.get("set-cookie"), null, path);
      assert.deepEqual(await jar.text("/read"), [200, "ada"], path);
      assert.equal(mode.size(), size);
    }
    await jar.fetch("/flash", { method: "POST" });
    assert.deepEqual(await jar.text("/flash-fail"), [500, "hello"]);
    assert.deepEqual(
      await jar.text("/flash-fail"),
      [500, "hello"],
      "a failed request consumes no flash",
    );
  },
);

eachMode(
  "assignment: assigning an object replaces the values and is saved",
  async (mode) => {
    const app = basicApp(mode.options())
      .post("/replace", (c) => {
        c.session = { n: 7 };
        return c.text(
          `${c.session.userId}|${c.session.n}|${c.session.hasChanged}`,
        );
      })
      .post("/set-replace", (c) => {
        c.set("session", { userId: "bo" } as never);
        return c.text("ok");
      })
      .get("/all", (c) => c.text(JSON.stringify(c.session)));
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    const id = jar.get("sid");
    assert.deepEqual(await jar.text("/replace", { method: "POST" }), [
      200,
      "undefined|7|true",
    ]);
    assert.deepEqual(await jar.text("/all"), [200, '{"n":7}']);
    if (mode.store) assert.equal(jar.get("sid"), id, "replacing keeps the id");
    await jar.fetch("/set-replace", { method: "POST" });
    assert.deepEqual(await jar.text("/all"), [200, '{"userId":"bo"}']);
  },
);

eachMode(
  "assignment: after c.session = null the session reads as new and empty; logout clears everything",
  async (mode) => {
    const app = basicApp(mode.options())
      .post("/logout-read", (c) => {
        c.session = null;
        const s = c.session;
        return c.text(`${s.userId}|${s.isNew}|${c.get("session") === s}`);
      })
      .post("/logout-flash", (c) => {
        c.session = null;
        c.session.flash("msg", "signed out");
        return c.text("ok");
      })
      .get("/msg", (c) => c.text(`${c.session.msg}|${c.session.userId}`));
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    const oldCookie = jar.header();
    assert.deepEqual(await jar.text("/logout-read", { method: "POST" }), [
      200,
      "undefined|true|true",
    ]);
    assert.deepEqual(jar.last.map((c) => [c.name, c.maxAge]), [["sid", 0], [
      "sx",
      0,
    ]]);
    assert.equal(mode.size(), 0, "the entry is deleted");
    assert.deepEqual(await jar.text("/read"), [200, "-"]);
    assert.deepEqual(
      await jar.text("/read", { headers: { cookie: oldCookie } }),
      mode.store ? [200, "-"] : [200, "ada"],
    );

    // Logging out and writing at once: the old session ends, a new one starts.
    await jar.fetch("/login", { method: "POST" });
    const before = jar.get("sid");
    await jar.fetch("/logout-flash", { method: "POST" });
    assert.notEqual(jar.get("sid"), before);
    assert.deepEqual(await jar.text("/msg"), [200, "signed out|undefined"]);
    if (mode.store) {
      assert.equal(await mode.record(before!), undefined);
      assert.equal(mode.size(), 1);
    }
    // Logging out without a session sends nothing.
    const fresh = new Jar(app);
    await fresh.fetch("/logout", { method: "POST" });
    assert.equal(fresh.last.length, 0);
  },
);

eachMode(
  "flash values last exactly one more request; reflash() keeps them one more",
  async (mode) => {
    const app = basicApp(mode.options())
      .post("/flash", (c) => {
        c.session.flash("msg", "saved");
        return c.redirect("/show");
      })
      .get("/show", (c) => c.text(c.session.msg ?? "none"))
      .get("/keep", (c) => {
        c.session.reflash();
        return c.text(c.session.msg ?? "none");
      });
    const jar = new Jar(app);
    const res = await jar.fetch("/flash", { method: "POST" });
    assert.equal(res.status, 302);
    assert.deepEqual(await jar.text("/show"), [200, "saved"]);
    assert.deepEqual(await jar.text("/show"), [200, "none"]);
    await jar.fetch("/flash", { method: "POST" });
    assert.deepEqual(await jar.text("/keep"), [200, "saved"]);
    assert.deepEqual(await jar.text("/show"), [200, "saved"]);
    assert.deepEqual(await jar.text("/show"), [200, "none"]);
    assert.equal(jar.last.length, 0, "nothing left to consume: no write");
    await jar.fetch("/login", { method: "POST" });
    await jar.fetch("/flash", { method: "POST" });
    await jar.text("/show");
    assert.deepEqual(
      await jar.text("/read"),
      [200, "ada"],
      "ordinary values stay",
    );
  },
);

eachMode("hasChanged and isNew report the session's state", async (mode) => {
  const app = basicApp(mode.options()).post("/state", (c) => {
    const before = `${c.session.isNew},${c.session.hasChanged}`;
    c.session.n = 1;
    return c.text(`${before}->${c.session.isNew},${c.session.hasChanged}`);
  });
  const jar = new Jar(app);
  assert.deepEqual(await jar.text("/state", { method: "POST" }), [
    200,
    "true,false->true,true",
  ]);
  assert.deepEqual(await jar.text("/state", { method: "POST" }), [
    200,
    "false,false->false,false",
  ]);
});

eachMode(
  "a cookie prefix is written and read back under the same name",
  async (mode) => {
    for (
      const [prefix, name] of [["host", "__Host-sid"], [
        "secure",
        "__Secure-sid",
      ]] as const
    ) {
      const jar = new Jar(
        basicApp(mode.options({ cookieOptions: { prefix } })),
      );
      await jar.fetch("/login", { method: "POST" });
      assert.deepEqual(jar.last.map((c) => c.name), [
        name,
        name.replace("sid", "sx"),
      ]);
      assert.deepEqual(await jar.text("/read"), [200, "ada"]);
      await jar.fetch("/logout", { method: "POST" });
      assert.deepEqual(jar.last.map((c) => [c.name, c.maxAge]), [[name, 0], [
        name.replace("sid", "sx"),
        0,
      ]]);
    }
  },
);

eachMode(
  "existsCookieOptions.domain shares only the exists cookie with a parent domain",
  async (mode) => {
    const jar = new Jar(basicApp(mode.options({
      cookieName: "app_sid",
      existsCookieName: "app_sx",
      cookieOptions: { sameSite: "Strict", httpOnly: false },
      existsCookieOptions: { domain: "example.com" },
    })));
    await jar.fetch("/login", { method: "POST" });
    const [sid, sx] = jar.last;
    assert.equal(sid.name, "app_sid");
    assert.equal(sid.attributes.domain, undefined);
    assert.equal(sid.attributes.samesite, "Strict");
    assert.equal(
      sid.attributes.httponly,
      undefined,
      "cookieOptions can turn HttpOnly off",
    );
    assert.equal(sx.name, "app_sx");
    assert.equal(sx.attributes.domain, "example.com");
    assert.equal(
      sx.attributes.samesite,
      "Strict",
      "exists cookie inherits cookieOptions",
    );
    assert.equal(sx.attributes.httponly, undefined);
    await jar.fetch("/logout", { method: "POST" });
    assert.equal(
      jar.last[1].attributes.domain,
      "example.com",
      "cleared on the same domain",
    );
  },
);

Deno.test("cookie mode without a secret: a random key per middleware, so another instance cannot read it", async () => {
  const a = new Jar(basicApp({}));
  await a.fetch("/login", { method: "POST" });
  assert.deepEqual(await a.text("/read"), [200, "ada"]);
  const b = basicApp({});
  const res = await b.request("/read", { headers: { cookie: a.header() } });
  assert.equal(await res.text(), "-");
});

Deno.test("cookie mode: a custom encoder, sync or async, is used both ways", async () => {
  for (const async of [false, true]) {
    const seen: string[] = [];
    const encode = (record: unknown, secret: string) => {
      seen.push(`encode:${secret.length}`);
      return "v1." + btoa(JSON.stringify(record));
    };
    const decode = (value: string) => {
      seen.push("decode");
      if (!value.startsWith("v1.")) return null;
      return JSON.parse(atob(value.slice(3)));
    };
    const encoder = async
      ? {
        encode: async (r: unknown, s: string) => await encode(r, s),
        decode: async (v: string) => await decode(v),
      }
      : { encode, decode };
    const jar = new Jar(basicApp({ encoder, secret: "x".repeat(32) }));
    await jar.fetch("/login", { method: "POST" });
    assert.match(jar.get("sid")!, /^v1\./);
    assert.deepEqual(await jar.text("/read"), [200, "ada"]);
    jar.cookies.set("sid", "garbage");
    assert.deepEqual(await jar.text("/read"), [200, "-"]);
    // The encoder gets the secret as configured (32 characters here).
    assert.deepEqual(seen, ["encode:32", "decode", "decode"]);
  }
});

Deno.test("c.session outside the middleware says what is wrong", async () => {
  const app = new Hono().get("/", (c) => c.text(String(c.session.isNew)));
  app.onError((err, c) => c.text(err.message, 500));
  const res = await app.request("/");
  assert.equal(res.status, 500);
  assert.match(
    await res.text(),
    /only available to handlers that run after the session\(\) middleware/,
  );
});

eachMode(
  "two apps with the middleware on different cookie names keep separate sessions",
  async (mode) => {
    const app = new Hono();
    app.route(
      "/a",
      basicApp(mode.options({ cookieName: "a_sid", existsCookieName: "a_sx" })),
    );
    app.route(
      "/b",
      basicApp(mode.options({ cookieName: "b_sid", existsCookieName: "b_sx" })),
    );
    const jar = new Jar(app);
    await jar.fetch("/a/login?user=alpha", { method: "POST" });
    await jar.fetch("/b/login?user=beta", { method: "POST" });
    assert.deepEqual(await jar.text("/a/read"), [200, "alpha"]);
    assert.deepEqual(await jar.text("/b/read"), [200, "beta"]);
  },
);

Deno.test("setCookies helper sanity", () => {
  const res = new Response(null, {
    headers: [["set-cookie", "a=b%20c; Max-Age=5; HttpOnly"]],
  });
  assert.deepEqual(setCookies(res)[0].value, "b c");
});
