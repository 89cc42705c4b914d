// Rules 11 and 12: session values are JSON, fail loudly otherwise, pollute
// nothing, never clash with the bookkeeping; cookies never grow past 4 KiB.
import assert from "node:assert/strict";
import { basicApp, eachMode, Jar } from "./_helpers.ts";

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
  "rule 11: a value that would not survive JSON fails the save, naming the key",
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

eachMode("rule 11: JSON values round-trip exactly", async (mode) => {
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
  "rule 11: __proto__ and constructor keys pollute nothing",
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
  "rule 11: user keys cannot reach the bookkeeping; API names are refused loudly",
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
    if (mode.store) {
      const record = (await mode.record(jar.get("sid")!))!;
      assert.ok(record.expires > Date.now());
      assert.equal(record.flash, undefined);
    }
  },
);

Deno.test("rule 12: a cookie-mode session over 4096 bytes fails the save; nothing oversized is sent", async () => {
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

Deno.test("rule 12: store mode keeps big values on the server; the cookie stays an id", async () => {
  const store = new Map();
  const app = basicApp({ store }).post("/big", (c) => {
    c.session.list = "x".repeat(100_000);
    return c.text("ok");
  });
  const res = await app.request("/big", { method: "POST" });
  assert.equal(res.status, 200);
  assert.match(res.headers.getSetCookie()[0], /^sid=[A-Za-z0-9_-]{43};/);
});
