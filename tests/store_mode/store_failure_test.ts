// Rule 7: a failing store fails the request loudly and loses nothing.
import assert from "node:assert/strict";
import type { SessionRecord, SessionStore } from "../../mod.ts";
import { basicApp, Jar, storeKey } from "../_helpers.ts";

/** A Map-backed store whose methods can be told to fail, sync or async. */
class FlakyStore implements SessionStore {
  readonly map: Map<string, SessionRecord> = new Map();
  failing = new Set<"get" | "set" | "delete">();
  constructor(readonly async: boolean) {}
  #run<T>(name: "get" | "set" | "delete", fn: () => T): T | Promise<T> {
    if (this.async) {
      return Promise.resolve().then(() => {
        if (this.failing.has(name)) throw new Error(`store ${name} is down`);
        return fn();
      });
    }
    if (this.failing.has(name)) throw new Error(`store ${name} is down`);
    return fn();
  }
  get(id: string) {
    return this.#run("get", () => this.map.get(id));
  }
  set(id: string, record: SessionRecord) {
    return this.#run("set", () => void this.map.set(id, record));
  }
  delete(id: string) {
    return this.#run("delete", () => void this.map.delete(id));
  }
}

for (const async of [false, true]) {
  const kind = async ? "async" : "sync";

  Deno.test(`store failure: a ${kind} get that throws fails the request and leaves the cookie alone`, async () => {
    const store = new FlakyStore(async);
    const jar = new Jar(basicApp({ store }));
    await jar.fetch("/login", { method: "POST" });
    const cookie = jar.header();
    store.failing.add("get");
    for (const path of ["/read", "/login", "/logout"]) {
      const res = await jar.fetch(path, {
        method: path === "/read" ? "GET" : "POST",
      });
      assert.equal(res.status, 500, path);
      assert.match(await res.text(), /store get is down/);
      assert.equal(
        res.headers.get("set-cookie"),
        null,
        "the client's cookie is not overwritten",
      );
    }
    store.failing.clear();
    assert.deepEqual(await jar.text("/read", { headers: { cookie } }), [
      200,
      "ada",
    ], "nothing was lost");
  });

  Deno.test(`store failure: a ${kind} set that throws fails the request; no cookie points at the unsaved id`, async () => {
    const store = new FlakyStore(async);
    const jar = new Jar(basicApp({ store }));
    store.failing.add("set");
    const first = await jar.fetch("/login", { method: "POST" });
    assert.equal(first.status, 500);
    assert.equal(first.headers.get("set-cookie"), null);
    assert.equal(store.map.size, 0);
    store.failing.clear();
    await jar.fetch("/login?user=kim", { method: "POST" });
    const id = jar.get("sid")!;
    store.failing.add("set");
    for (const path of ["/count", "/login?user=zed"]) {
      const res = await jar.fetch(path, { method: "POST" });
      assert.equal(res.status, 500);
      assert.match(await res.text(), /store set is down/);
      assert.equal(res.headers.get("set-cookie"), null);
    }
    store.failing.clear();
    assert.equal(jar.get("sid"), id);
    assert.deepEqual(
      await jar.text("/read"),
      [200, "kim"],
      "the old session is intact",
    );
    assert.deepEqual([...store.map.keys()], [await storeKey(id)]);
  });

  Deno.test(`store failure: a ${kind} set that throws during regenerate keeps the old session whole`, async () => {
    const store = new FlakyStore(async);
    const app = basicApp({ store }).post("/regen", (c) => {
      c.session.regenerate();
      c.session.userId = "root";
      return c.text("ok");
    });
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    const id = jar.get("sid")!;
    store.failing.add("set");
    const res = await jar.fetch("/regen", { method: "POST" });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get("set-cookie"), null);
    store.failing.clear();
    assert.deepEqual([...store.map.keys()], [await storeKey(id)]);
    assert.deepEqual(await jar.text("/read"), [200, "ada"]);
  });

  Deno.test(`store failure: a ${kind} delete that throws at logout fails the request and keeps the cookie`, async () => {
    const store = new FlakyStore(async);
    const jar = new Jar(basicApp({ store }));
    await jar.fetch("/login", { method: "POST" });
    store.failing.add("delete");
    const res = await jar.fetch("/logout", { method: "POST" });
    assert.equal(res.status, 500);
    assert.match(await res.text(), /store delete is down/);
    assert.equal(
      res.headers.get("set-cookie"),
      null,
      "the browser is not told it logged out",
    );
    store.failing.clear();
    await jar.fetch("/logout", { method: "POST" });
    assert.equal(store.map.size, 0);
    assert.deepEqual(jar.last.map((c) => c.maxAge), [0, 0]);
  });
}

Deno.test("an encoder that throws while sealing fails the request without a cookie", async () => {
  const app = basicApp({
    secret: "k".repeat(32),
    encoder: {
      encode: () => {
        throw new Error("sealing failed");
      },
      decode: () => null,
    },
  });
  const res = await app.request("/login", { method: "POST" });
  assert.equal(res.status, 500);
  assert.match(await res.text(), /sealing failed/);
  assert.equal(res.headers.get("set-cookie"), null);
});
