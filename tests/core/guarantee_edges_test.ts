// Edges of promises that a careless change would break while the rest of
// the suite stayed green (found by mutating the code, issue 14): each test
// here fails against its mutation.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Context } from "hono";
import { session, type SessionRecord } from "../../mod.ts";
import { IronKey } from "../../_cookie_mode/iron.ts";
import { Keyring } from "../../_cookie_mode/keyring.ts";
import { resolveOptions } from "../../_core/options.ts";
import { StoreMode } from "../../_store_mode/mode.ts";
import { randomToken } from "../../_store_mode/ids.ts";
import { basicApp, Jar, SECRET, storeKey, withFakeTime } from "../_helpers.ts";

Deno.test("iron: one sealing salt serves exactly 10,000 seals; the 10,001st draws a new one", async () => {
  const key = new IronKey("k", "p".repeat(43));
  const salts = new Set<string>();
  let first = "";
  for (let i = 0; i < 10_000; i++) {
    const salt = (await key.seal("{}")).split("*")[2]!;
    first ||= salt;
    salts.add(salt);
  }
  assert.deepEqual([...salts], [first], "10,000 seals, one salt");
  const next = (await key.seal("{}")).split("*")[2]!;
  assert.notEqual(next, first, "the 10,001st has a fresh salt");
});

Deno.test("absolute timeout: a stored record without `created` is no session", async () => {
  const store = new Map<string, SessionRecord>();
  const app = basicApp({ store, absoluteTimeout: 3600 });
  const token = randomToken();
  store.set(storeKey(token), {
    data: { userId: "ada" },
    expires: Date.now() + 60_000,
  });
  const res = await app.request("/read", {
    headers: { cookie: `sid=${token}` },
  });
  assert.equal(await res.text(), "-");
});

Deno.test("absolute timeout: a genuine seal without `created` is no session", async () => {
  const keys = new Keyring([SECRET], "cookie:sid");
  const key = await keys.newest();
  const sealed = await key.iron.seal(
    JSON.stringify({ data: { userId: "ada" }, expires: Date.now() + 60_000 }),
  );
  const cookie = `sid=${encodeURIComponent(sealed)}`;
  // The same seal opens without the timeout: it is genuine.
  const plain = basicApp({ secret: SECRET });
  assert.equal(
    await (await plain.request("/read", { headers: { cookie } })).text(),
    "ada",
  );
  const strict = basicApp({ secret: SECRET, absoluteTimeout: 3600 });
  assert.equal(
    await (await strict.request("/read", { headers: { cookie } })).text(),
    "-",
  );
});

for (const mode of ["cookie", "store"] as const) {
  const options = () =>
    mode === "cookie" ? { secret: SECRET } : { store: new Map() };

  Deno.test(`idle timeout [${mode}]: a write moves the deadline even before a write-back is due`, async () => {
    await withFakeTime(async (clock) => {
      const jar = new Jar(basicApp({ ...options(), idleTimeout: 100 }));
      await jar.fetch("/login", { method: "POST" });
      clock.tick(5_000);
      await jar.fetch("/count", { method: "POST" });
      const sid = jar.last.find((c) => c.name === "sid");
      assert.equal(
        sid?.maxAge,
        100,
        "the write's cookie carries the moved deadline",
      );
      clock.tick(97_000); // 102 s after sign-in, 97 s after the write
      assert.equal((await jar.text("/read"))[1], "ada");
    });
  });

  Deno.test(`idle timeout [${mode}]: touchFraction 0.5 writes back at 60 s, not at 20 s`, async () => {
    await withFakeTime(async (clock) => {
      const jar = new Jar(
        basicApp({ ...options(), idleTimeout: 100, touchFraction: 0.5 }),
      );
      await jar.fetch("/login", { method: "POST" });
      clock.tick(20_000);
      await jar.fetch("/read");
      assert.equal(jar.last.length, 0, "a read at 20 s writes nothing");
      clock.tick(40_000);
      await jar.fetch("/read");
      assert.equal(
        jar.last.find((c) => c.name === "sid")?.maxAge,
        100,
        "a read at 60 s writes the deadline back",
      );
    });
  });

  Deno.test(`failed handler [${mode}]: an HTTPException(400) answered by onError saves nothing`, async () => {
    const store = new Map<string, SessionRecord>();
    const app = new Hono()
      .use(session(mode === "cookie" ? { secret: SECRET } : { store }))
      .post("/bad", (c) => {
        c.session.userId = "ada";
        throw new HTTPException(400, { message: "bad input" });
      });
    app.onError((err, c) =>
      c.text(err.message, err instanceof HTTPException ? err.status : 500)
    );
    const res = await app.request("/bad", { method: "POST" });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("set-cookie"), null);
    assert.equal(store.size, 0);
  });

  Deno.test(`cookie size [${mode}]: with a 400-character cookie name, no cookie sent passes 4096 bytes`, async () => {
    const name = "n".repeat(400);
    const app = new Hono()
      .use(session(
        mode === "cookie"
          ? { secret: SECRET, cookieName: name }
          : { store: new Map(), cookieName: name },
      ))
      .post("/put", (c) => {
        c.session.blob = "x".repeat(Number(c.req.query("n")));
        return c.text("ok");
      });
    app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500));
    for (const n of [100, 2_400, 2_600, 2_800, 3_000]) {
      const res = await app.request(`/put?n=${n}`, { method: "POST" });
      for (const line of res.headers.getSetCookie()) {
        const pair = line.split(";")[0]!;
        assert.ok(
          pair.length - 1 <= 4096,
          `${pair.length - 1} bytes at n=${n}`,
        );
      }
      if (res.status !== 200) {
        assert.match(await res.text(), /over the 4096-byte limit/);
      }
    }
  });
}

// Store mode's memo of id hashes: only ids the store knows enter it.
function aContext(): Context {
  return {} as Context;
}

Deno.test("store mode: unknown well-formed ids never enter the id-hash memo", async () => {
  const store = new Map<string, SessionRecord>();
  const mode = new StoreMode(resolveOptions({ store }), store);
  for (let i = 0; i < 50; i++) {
    assert.equal(await mode.load(randomToken(), aContext()), undefined);
  }
  assert.equal(mode.memoSize, 0, "made-up ids are not remembered");
  const known = randomToken();
  store.set(storeKey(known), {
    data: {},
    expires: Date.now() + 60_000,
  });
  assert.ok(await mode.load(known, aContext()));
  assert.equal(mode.memoSize, 1);
});

Deno.test("store mode: each new id is 256 bits from crypto.getRandomValues, never repeated", async () => {
  const real = crypto.getRandomValues.bind(crypto);
  const sizes: number[] = [];
  crypto.getRandomValues = (<T extends ArrayBufferView | null>(array: T): T => {
    if (array) sizes.push(array.byteLength);
    return real(array as never) as T;
  }) as typeof crypto.getRandomValues;
  try {
    const app = basicApp({ store: new Map() });
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const res = await app.request("/login", { method: "POST" });
      const sid = res.headers.getSetCookie().find((c) => c.startsWith("sid="))!;
      ids.add(sid.slice(4, sid.indexOf(";")));
    }
    assert.equal(ids.size, 500, "no id repeats");
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{43}$/);
    // Each id drew at least 256 bits from the platform's CSPRNG.
    assert.ok(sizes.filter((n) => n >= 32).length >= 500, `${sizes.length}`);
    // ...and uses them: every position varies on its own (none repeats
    // another position's character more often than chance, 1 in 64).
    const list = [...ids];
    for (let i = 0; i < 43; i++) {
      assert.ok(new Set(list.map((id) => id[i])).size >= 48, `position ${i}`);
      for (let j = i + 1; j < 43; j++) {
        const same = list.filter((id) => id[i] === id[j]).length;
        assert.ok(same < 40, `positions ${i} and ${j} agree in ${same} of 500`);
      }
    }
  } finally {
    crypto.getRandomValues = real;
  }
});
