// One suite every store runs, through a real Hono app and directly:
// storeConformance("MyStore", async () => ({ store, close })). It registers
// its tests with node:test, so it runs under `deno test` and `node --test`.
import assert from "node:assert/strict";
import { test as nodeTest } from "node:test";
import { type Context, Hono } from "hono";
import { session, type SessionRecord, type SessionStore } from "../../mod.ts";
import { basicApp, Jar, storeKey, withFakeTime } from "../_helpers.ts";

/** A store under test and how to dispose of it. */
export interface StoreUnderTest {
  store: SessionStore;
  close?(): void | Promise<void>;
}

async function aContext(): Promise<Context> {
  let captured: Context | undefined;
  await new Hono().get("/", (c) => {
    captured = c;
    return c.text("");
  }).request("/");
  return captured!;
}

function record(data: Record<string, unknown>, ttlMs = 60_000): SessionRecord {
  return { data, expires: Date.now() + ttlMs };
}

/** Registers the conformance tests for the store `make` creates. */
export function storeConformance(
  name: string,
  make: () => Promise<StoreUnderTest> | StoreUnderTest,
): void {
  function test(
    title: string,
    fn: (store: SessionStore) => Promise<void>,
  ): void {
    nodeTest(`${name} conforms: ${title}`, async () => {
      const { store, close } = await make();
      try {
        await fn(store);
      } finally {
        await close?.();
      }
    });
  }

  test("round trip through the middleware", async (store) => {
    const jar = new Jar(basicApp({ store }));
    await jar.fetch("/login?user=ada", { method: "POST" });
    assert.deepEqual(await jar.text("/read"), [200, "ada"]);
    const saved = await store.get(
      await storeKey(jar.get("sid")!),
      await aContext(),
    );
    assert.deepEqual(saved?.data, { userId: "ada" });
    assert.ok(saved!.expires > Date.now());
  });

  test("update replaces what was saved", async (store) => {
    const jar = new Jar(basicApp({ store }));
    for (let i = 1; i <= 3; i++) {
      assert.deepEqual(await jar.text("/count", { method: "POST" }), [
        200,
        String(i),
      ]);
    }
    const saved = await store.get(
      await storeKey(jar.get("sid")!),
      await aContext(),
    );
    assert.deepEqual(saved?.data, { n: 3 });
  });

  test("delete: logout removes the entry", async (store) => {
    const jar = new Jar(basicApp({ store }));
    await jar.fetch("/login", { method: "POST" });
    const id = jar.get("sid")!;
    const key = await storeKey(id);
    assert.ok(await store.get(key, await aContext()));
    await jar.fetch("/logout", { method: "POST" });
    assert.equal(
      await store.get(key, await aContext()) ?? undefined,
      undefined,
    );
    assert.deepEqual(
      await jar.text("/read", { headers: { cookie: `sid=${id}` } }),
      [200, "-"],
    );
  });

  test("expiry: a session is gone at its deadline (fake time)", async (store) => {
    await withFakeTime(async (clock) => {
      const jar = new Jar(basicApp({ store, maxAge: 60 }));
      await jar.fetch("/login", { method: "POST" });
      clock.tick(59_999);
      assert.deepEqual(await jar.text("/read"), [200, "ada"]);
      clock.tick(1);
      assert.deepEqual(await jar.text("/read"), [200, "-"]);
    });
  });

  test("an expired entry is never returned, even if the backend still holds it", async (store) => {
    const id = "E".repeat(43);
    const c = await aContext();
    await withFakeTime(async (clock) => {
      await store.set(await storeKey(id), record({ userId: "old" }, 5_000), c);
      const app = basicApp({ store });
      const read = () =>
        app.request("/read", { headers: { cookie: `sid=${id}` } });
      assert.equal(await (await read()).text(), "old");
      clock.tick(5_000);
      assert.equal(await (await read()).text(), "-");
      clock.tick(60_000);
      assert.equal(await (await read()).text(), "-");
    });
  });

  test("an unknown id finds nothing and is never adopted", async (store) => {
    const planted = "U".repeat(43);
    const c = await aContext();
    assert.equal(
      await store.get(await storeKey(planted), c) ?? undefined,
      undefined,
    );
    const jar = new Jar(basicApp({ store }));
    jar.cookies.set("sid", planted);
    await jar.fetch("/login", { method: "POST" });
    assert.notEqual(jar.get("sid"), planted);
    assert.equal(
      await store.get(await storeKey(planted), c) ?? undefined,
      undefined,
    );
    assert.equal(await store.get(planted, c) ?? undefined, undefined);
  });

  test("concurrent writes to different sessions all land", async (store) => {
    const app = basicApp({ store });
    const jars = Array.from({ length: 20 }, () => new Jar(app));
    await Promise.all(
      jars.map((jar, i) => jar.fetch(`/login?user=u${i}`, { method: "POST" })),
    );
    for (let round = 1; round <= 3; round++) {
      await Promise.all(
        jars.map((jar) => jar.fetch("/count", { method: "POST" })),
      );
    }
    const c = await aContext();
    for (const [i, jar] of jars.entries()) {
      const saved = await store.get(await storeKey(jar.get("sid")!), c);
      assert.deepEqual(saved?.data, { userId: `u${i}`, n: 3 });
    }
  });

  test("a large value round-trips", async (store) => {
    const big = "é".repeat(20_000) + "x".repeat(10_000);
    const app = basicApp({ store })
      .post("/big", (c) => {
        c.session.list = {
          big,
          items: Array.from({ length: 500 }, (_, i) => i),
        };
        return c.text("ok");
      })
      .get("/big", (c) => c.json(c.session.list));
    const jar = new Jar(app);
    assert.equal((await jar.fetch("/big", { method: "POST" })).status, 200);
    const got = await (await jar.fetch("/big")).json();
    assert.equal(got.big, big);
    assert.equal(got.items.length, 500);
  });

  test("keys with odd characters are kept apart", async (store) => {
    const c = await aContext();
    const keys = [
      "a/b",
      "a:b",
      "a b",
      "ü🙂",
      "a\u0000b",
      "'; DROP TABLE sessions; --",
      "a",
      "A",
    ];
    for (const [i, key] of keys.entries()) {
      await store.set(key, record({ i }), c);
    }
    for (const [i, key] of keys.entries()) {
      assert.deepEqual(
        (await store.get(key, c))?.data,
        { i },
        JSON.stringify(key),
      );
    }
    for (const key of keys) await store.delete(key, c);
    for (const key of keys) {
      assert.equal(await store.get(key, c) ?? undefined, undefined);
    }
  });

  test("two middleware instances share one store", async (store) => {
    const a = new Hono().use(session<{ userId?: string }>({ store })).get(
      "/",
      (c) => c.text(c.session.userId ?? "-"),
    )
      .post("/in", (c) => {
        c.session.userId = "shared";
        return c.text("ok");
      })
      .post("/regen", (c) => {
        c.session.regenerate();
        return c.text("ok");
      });
    const b = basicApp({ store });
    const jarA = new Jar(a);
    await jarA.fetch("/in", { method: "POST" });
    const jarB = new Jar(b);
    jarB.cookies.set("sid", jarA.get("sid")!);
    assert.deepEqual(await jarB.text("/read"), [200, "shared"]);
    const old = jarA.get("sid")!;
    await jarA.fetch("/regen", { method: "POST" });
    assert.deepEqual(
      await jarB.text("/read", { headers: { cookie: `sid=${old}` } }),
      [200, "-"],
    );
    jarB.cookies.set("sid", jarA.get("sid")!);
    await jarB.fetch("/logout", { method: "POST" });
    assert.deepEqual(await jarA.text("/"), [200, "-"]);
  });
}
