// Rules 11 and 12: session values are JSON, fail loudly otherwise, pollute
// nothing, never clash with the bookkeeping; cookies never grow past 4 KiB.
import assert from "node:assert/strict";
import { basicApp, eachMode, Jar } from "../_helpers.ts";

class Point {
  x = 1;
}

const bad: [string, () => unknown, RegExp][] = [
  ["a Date", () => new Date(0), /"list" is a Date/],
  ["a Map", () => new Map([["a", 1]]), /"list" is a Map/],
  ["a Set", () => new Set([1]), /"list" is a Set/],
  ["a BigInt", () => 10n, /"list" is a BigInt/],
  ["a function", () => () => 1, /"list" is a function/],
  ["a symbol", () => Symbol("s"), /"list" is a symbol/],
  ["NaN", () => NaN, /"list" is NaN/],
  [
    "Infinity",
    () => ({ deep: [1, -Infinity] }),
    /"list\.deep\[1\]" is -Infinity/,
  ],
  [
    "undefined in an array",
    () => [1, undefined, 3],
    /"list\[1\]" is undefined/,
  ],
  ["an array hole", () => [1, , 3], /"list\[1\]" is an empty array slot/],
  ["a class instance", () => ({ at: new Point() }), /"list\.at" is a Point/],
  [
    "a nested Date",
    () => ({ "odd key": { when: new Date() } }),
    /"list\["odd key"\]\.when" is a Date/,
  ],
  ["a circular reference", () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    return o;
  }, /"list\.self" is a circular reference/],
  ["a typed array", () => new Uint8Array(2), /"list" is a Uint8Array/],
  [
    "symbol keys",
    () => ({ [Symbol("k")]: 1 }),
    /"list" is an object with symbol keys/,
  ],
];

eachMode(
  "values: a value that would not survive JSON fails the save, naming the key",
  async (mode) => {
    for (const [name, make, message] of bad) {
      const app = basicApp(mode.options()).post("/put", (c) => {
        c.session.list = make();
        return c.text("ok");
      });
      const res = await app.request("/put", { method: "POST" });
      assert.equal(res.status, 500, name);
      const body = await res.text();
      assert.match(body, /^TypeError: session value /, name);
      assert.match(body, message, name);
      assert.match(body, /does not survive JSON/);
      assert.equal(res.headers.get("set-cookie"), null, name);
      assert.equal(mode.size(), 0);
    }
  },
);

eachMode("values: JSON values round-trip exactly", async (mode) => {
  const value = {
    s: 'ünïcödé \u2028 "quoted" <tag>',
    n: [0, -0.5, 1e21, Number.MAX_SAFE_INTEGER],
    b: [true, false],
    z: null,
    nested: { a: [{ b: [[]] }], empty: {} },
  };
  const app = basicApp(mode.options())
    .post("/put", (c) => {
      c.session.list = value;
      return c.text("ok");
    })
    .get("/get", (c) => c.json(c.session.list));
  const jar = new Jar(app);
  await jar.fetch("/put", { method: "POST" });
  const res = await jar.fetch("/get");
  assert.deepEqual(await res.json(), JSON.parse(JSON.stringify(value)));
});

eachMode(
  "values: __proto__ and constructor keys pollute nothing",
  async (mode) => {
    const app = basicApp(mode.options())
      .post("/put", async (c) => {
        c.session = await c.req.json();
        return c.text("ok");
      })
      .post("/merge", (c) => {
        const evil = JSON.parse(
          '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}',
        );
        for (
          const [k, v] of Object.entries(evil)
        ) (c.session as unknown as Record<string, unknown>)[k] = v;
        return c.text("ok");
      })
      .get("/get", (c) => {
        const s = c.session as unknown as Record<string, unknown>;
        return c.text(
          `${JSON.stringify(s)}|${typeof s.toString}|${
            Object.getPrototypeOf(s) === null
          }|${s.isNew}`,
        );
      });
    const jar = new Jar(app);
    const body =
      '{"__proto__": {"polluted": "yes", "isNew": "forged"}, "constructor": {"prototype": {"polluted": "yes"}}, "userId": "p"}';
    await jar.fetch("/put", {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    const [, got] = await jar.text("/get");
    assert.equal(
      got,
      '{"__proto__":{"polluted":"yes","isNew":"forged"},"constructor":{"prototype":{"polluted":"yes"}},"userId":"p"}|undefined|true|false',
    );
    await jar.fetch("/merge", { method: "POST" });
    await jar.text("/get");
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(
      (Object.prototype as Record<string, unknown>).polluted,
      undefined,
    );
    assert.deepEqual(await jar.text("/read"), [200, "p"]);
  },
);

eachMode(
  "values: user keys cannot reach the bookkeeping; API names are refused loudly",
  async (mode) => {
    const app = basicApp(mode.options({ maxAge: 60 }))
      .post("/keys", (c) => {
        const s = c.session as unknown as Record<string, unknown>;
        s.expires = 1;
        s.flash = undefined as never;
        return c.text("never");
      })
      .post("/data", (c) => {
        const s = c.session as unknown as Record<string, unknown>;
        s.expires = 0;
        s.data = "mine";
        s.e = -1;
        s.f = ["userId"];
        return c.text("ok");
      })
      .get("/data", (c) => {
        const s = c.session as unknown as Record<string, unknown>;
        return c.text(`${s.expires}|${s.data}|${s.userId}`);
      })
      .post("/replace", (c) => {
        c.session = { renew: 1 };
        return c.text("never");
      })
      .post("/replace-symbol", (c) => {
        c.session = { ok: 1, [Symbol("hidden")]: 2 } as never;
        return c.text("never");
      })
      .post("/set-symbol", (c) => {
        (c.session as unknown as Record<symbol, unknown>)[Symbol("s")] = 1;
        return c.text("never");
      });
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    const keys = await jar.fetch("/keys", { method: "POST" });
    assert.equal(keys.status, 500);
    assert.match(
      await keys.text(),
      /TypeError: "flash" is a member of the session API and cannot hold a value/,
    );
    await jar.fetch("/data", { method: "POST" });
    assert.deepEqual(
      await jar.text("/data"),
      [200, "0|mine|ada"],
      "the session did not expire",
    );
    assert.deepEqual(
      await jar.text("/data"),
      [200, "0|mine|ada"],
      "userId was not flashed away",
    );
    const replace = await jar.fetch("/replace", { method: "POST" });
    assert.match(
      await replace.text(),
      /"renew" is a member of the session API/,
    );
    // Symbol keys never reach the values (JSON would drop them silently).
    for (const path of ["/replace-symbol", "/set-symbol"]) {
      const res = await jar.fetch(path, { method: "POST" });
      assert.equal(res.status, 500, path);
      assert.match(await res.text(), /session keys must be strings/, path);
    }
    assert.deepEqual(await jar.text("/data"), [200, "0|mine|ada"]);
    if (mode.store) {
      const record = (await mode.record(jar.get("sid")!))!;
      assert.ok(record.expires > Date.now());
      assert.equal(record.flash, undefined);
    }
  },
);

Deno.test("cookie size: a cookie-mode session over 4096 bytes fails the save; nothing oversized is sent", async () => {
  const app = basicApp({ secret: "s".repeat(32) }).post("/big", (c) => {
    c.session.list = "x".repeat(Number(c.req.query("n")));
    return c.text("ok");
  });
  const small = await app.request("/big?n=2000", { method: "POST" });
  assert.equal(small.status, 200);
  const sid = small.headers.getSetCookie()[0];
  assert.ok(sid.split(";")[0].length <= 4096);
  const big = await app.request("/big?n=3500", { method: "POST" });
  assert.equal(big.status, 500);
  assert.match(
    await big.text(),
    /^RangeError: session cookie "sid" would be \d+ bytes, over the 4096-byte limit browsers keep; store less in the session, or use a store/,
  );
  assert.equal(big.headers.get("set-cookie"), null);
  // The boundary: find the largest value that fits and check it is <= 4096.
  let lo = 2000, hi = 3500;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const res = await app.request(`/big?n=${mid}`, { method: "POST" });
    await res.body?.cancel();
    if (res.status === 200) lo = mid;
    else hi = mid;
  }
  const edge = await app.request(`/big?n=${lo}`, { method: "POST" });
  const pair = edge.headers.getSetCookie()[0].split(";")[0];
  assert.ok(
    pair.length - 1 <= 4096 && pair.length - 1 > 4000,
    `${pair.length}`,
  );
});

Deno.test("cookie size: store mode keeps big values on the server; the cookie stays an id", async () => {
  const store = new Map();
  const app = basicApp({ store }).post("/big", (c) => {
    c.session.list = "x".repeat(100_000);
    return c.text("ok");
  });
  const res = await app.request("/big", { method: "POST" });
  assert.equal(res.status, 200);
  assert.match(res.headers.getSetCookie()[0], /^sid=[A-Za-z0-9_-]{43};/);
});

// Values JSON would change without a word: each must fail the save.
const silent: [string, () => unknown, RegExp][] = [
  [
    "-0",
    () => ({ n: [1, -0] }),
    /"list\.n\[1\]" is -0 \(JSON writes it as 0\)/,
  ],
  ["an extra property on an array", () => {
    const a: number[] & { extra?: number } = [1];
    a.extra = 2;
    return a;
  }, /"list\.extra" is an array property that is not an item/],
  ["a hole and an extra property on an array", () => {
    const a: (number | undefined)[] & { extra?: number } = [1, , 3];
    a.extra = 2;
    return a;
  }, /"list\[1\]" is an empty array slot/],
  [
    "a non-enumerable property",
    () => Object.defineProperty({ a: 1 }, "hidden", { value: 2 }),
    /"list\.hidden" is a non-enumerable property/,
  ],
  [
    "a getter",
    () => ({
      a: 1,
      get b() {
        return 2;
      },
    }),
    /"list\.b" is an accessor property \(a getter or setter\)/,
  ],
  [
    "a setter on an object without a prototype",
    () =>
      Object.defineProperty(Object.create(null), "x", {
        set() {},
        enumerable: true,
      }),
    /"list\.x" is an accessor property/,
  ],
  [
    "a non-enumerable property on an array",
    () => Object.defineProperty([1, 2], "extra", { value: 3 }),
    /"list\.extra" is an array property that is not an item/,
  ],
  [
    "a symbol-keyed property on an array",
    () => Object.assign([1], { [Symbol("s")]: 2 }),
    /"list" is an array with symbol keys/,
  ],
  [
    "an array item that is a getter",
    () => {
      let reads = 0;
      // A different answer each time it is read: checked once, saved once.
      return Object.defineProperty([0], 0, {
        get: () => reads++ === 0 ? "x" : undefined,
        enumerable: true,
      });
    },
    /"list\[0\]" is an accessor property/,
  ],
];

for (const [name, make, message] of silent) {
  eachMode(`values: ${name} fails the save, naming the key`, async (mode) => {
    const app = basicApp(mode.options()).post("/put", (c) => {
      c.session.list = make();
      return c.text("ok");
    });
    const res = await app.request("/put", { method: "POST" });
    const body = await res.text();
    assert.equal(res.status, 500, body);
    assert.match(body, /^TypeError: session value /);
    assert.match(body, message);
    assert.equal(res.headers.get("set-cookie"), null);
    assert.equal(mode.size(), 0);
  });
}

eachMode(
  "values: an own toJSON is refused as a function; prototype-less and shared objects are fine",
  async (mode) => {
    const app = basicApp(mode.options())
      .post("/tojson", (c) => {
        c.session.list = { a: 1, toJSON: () => "x" };
        return c.text("ok");
      })
      .post("/bare", (c) => {
        const bare = Object.create(null);
        bare.a = { b: Object.assign(Object.create(null), { c: [1] }) };
        // The same object twice, side by side, is no cycle.
        bare.twice = [bare.a, bare.a];
        c.session.list = bare;
        return c.text("ok");
      })
      .get("/get", (c) => c.json(c.session.list));
    const res = await app.request("/tojson", { method: "POST" });
    assert.equal(res.status, 500);
    assert.match(await res.text(), /"list\.toJSON" is a function/);
    const jar = new Jar(app);
    assert.deepEqual(await jar.text("/bare", { method: "POST" }), [200, "ok"]);
    const a = { b: { c: [1] } };
    assert.deepEqual(await (await jar.fetch("/get")).json(), {
      a,
      twice: [a, a],
    });
  },
);

function nest(depth: number, array: boolean): unknown {
  let v: unknown = array ? [] : {};
  for (let i = 0; i < depth; i++) v = array ? [v] : { a: v };
  return v;
}

eachMode(
  "values: deeply nested values are checked without overflowing the stack",
  async (mode) => {
    for (const depth of [5_000, 100_000]) {
      for (const array of [false, true]) {
        const value = nest(depth, array);
        const app = basicApp(mode.options())
          .post("/put", (c) => {
            c.session.list = value;
            return c.text("ok");
          })
          .get("/get", (c) => c.text(JSON.stringify(c.session.list)));
        const jar = new Jar(app);
        const [status, body] = await jar.text("/put", { method: "POST" });
        const what = `${depth} deep, ${array ? "arrays" : "objects"}`;
        if (mode.store) {
          assert.deepEqual([status, body], [200, "ok"], what);
          assert.deepEqual(
            await jar.text("/get"),
            [200, JSON.stringify(value)],
            what,
          );
        } else {
          // Far too big for a cookie: the size check answers, not the stack.
          assert.equal(status, 500, what);
          assert.match(body, /^RangeError: session cookie "sid" would be/);
        }
      }
    }
  },
);

eachMode(
  "values: a nest too deep for JSON.stringify fails with a TypeError, never a stack overflow",
  async (mode) => {
    // Objects without a prototype send V8 to its recursive serializer.
    let value = Object.create(null);
    for (let i = 0; i < 100_000; i++) {
      value = Object.assign(Object.create(null), { a: value });
    }
    const app = basicApp(mode.options()).post("/put", (c) => {
      c.session.list = value;
      return c.text("ok");
    });
    const res = await app.request("/put", { method: "POST" });
    assert.equal(res.status, 500);
    assert.match(
      await res.text(),
      /^TypeError: session value "list" is nested 100,001 levels deep, deeper than JSON.stringify can go here/,
    );
    assert.equal(res.headers.get("set-cookie"), null);
    assert.equal(mode.size(), 0);
  },
);

Deno.test("values: a cycle deep inside a deep nest is still found and named", async () => {
  const root: Record<string, unknown> = {};
  let v = root;
  for (let i = 0; i < 10_000; i++) v = (v.a = {}) as Record<string, unknown>;
  v.back = root;
  const app = basicApp({ store: new Map() }).post("/put", (c) => {
    c.session.list = root;
    return c.text("ok");
  });
  const res = await app.request("/put", { method: "POST" });
  assert.equal(res.status, 500);
  const body = await res.text();
  assert.match(body, /is a circular reference/);
  assert.ok(body.includes(`"list${".a".repeat(10_000)}.back"`));
});
