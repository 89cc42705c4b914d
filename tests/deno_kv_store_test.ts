// DenoKvStore: native expiry, the read-time expiry check, Deno KV's size
// limits, its options.
import assert from "node:assert/strict";
import {
  DenoKvStore,
  type KvDatabase,
  type KvKeyPart,
} from "../stores/deno_kv.ts";
import { basicApp, Jar, withFakeTime } from "./_helpers.ts";

/** A KvDatabase that records what it is asked. */
class RecordingKv implements KvDatabase {
  readonly calls: [string, readonly KvKeyPart[], unknown?][] = [];
  readonly map = new Map<string, unknown>();
  get(key: readonly KvKeyPart[]) {
    this.calls.push(["get", key]);
    const value = this.map.get(JSON.stringify(key));
    return Promise.resolve({
      value: value ?? null,
      versionstamp: value === undefined ? null : "1",
    });
  }
  set(
    key: readonly KvKeyPart[],
    value: unknown,
    options?: { expireIn?: number },
  ) {
    this.calls.push(["set", key, options]);
    this.map.set(JSON.stringify(key), value);
    return Promise.resolve({ ok: true });
  }
  delete(key: readonly KvKeyPart[]) {
    this.calls.push(["delete", key]);
    this.map.delete(JSON.stringify(key));
    return Promise.resolve();
  }
}

Deno.test("DenoKvStore writes with expireIn matching the session's deadline, under the prefix", async () => {
  await withFakeTime(async (clock) => {
    const kv = new RecordingKv();
    const jar = new Jar(
      basicApp({
        store: new DenoKvStore(kv, { prefix: ["app", "s"] }),
        maxAge: 600,
      }),
    );
    await jar.fetch("/login", { method: "POST" });
    const id = jar.get("sid")!;
    assert.deepEqual(kv.calls, [["set", ["app", "s", id], {
      expireIn: 600_000,
    }]]);
    clock.tick(100_000);
    await jar.fetch("/count", { method: "POST" });
    assert.deepEqual(kv.calls.slice(1), [["get", ["app", "s", id]], ["set", [
      "app",
      "s",
      id,
    ], { expireIn: 500_000 }]]);
    assert.equal(
      typeof kv.map.get(JSON.stringify(["app", "s", id])),
      "string",
      "kept as JSON text",
    );
  });
});

Deno.test("DenoKvStore: an entry Deno KV still holds past its deadline is not returned", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new DenoKvStore(kv);
    await withFakeTime(async (clock) => {
      await store.set("id", { data: { a: 1 }, expires: Date.now() + 1000 });
      clock.tick(1000);
      assert.equal(await store.get("id"), undefined);
    });
    // Real time has barely moved: Deno KV itself still has the entry.
    assert.equal(typeof (await kv.get(["sessions", "id"])).value, "string");
  } finally {
    kv.close();
  }
});

Deno.test("DenoKvStore ignores entries under its prefix that it did not write", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new DenoKvStore(kv);
    for (
      const value of [
        42,
        { data: {} },
        "not json",
        "null",
        '{"data":{},"expires":"x"}',
      ]
    ) {
      await kv.set(["sessions", "x"], value);
      assert.equal(await store.get("x"), undefined, JSON.stringify(value));
    }
  } finally {
    kv.close();
  }
});

Deno.test("DenoKvStore: a session over 64 KiB fails the save with a clear error; nothing is written", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new DenoKvStore(kv);
    const app = basicApp({ store }).post("/big", (c) => {
      c.session.list = c.req.query("two")
        ? "€".repeat(33_000)
        : "x".repeat(66_000);
      return c.text("ok");
    });
    for (const path of ["/big", "/big?two=1"]) {
      const res = await app.request(path, { method: "POST" });
      assert.equal(res.status, 500);
      assert.match(
        await res.text(),
        /^RangeError: DenoKvStore: the session is \d+ bytes serialized, over Deno KV's 65536-byte value limit; keep less in the session/,
      );
      assert.equal(res.headers.get("set-cookie"), null);
    }
    for await (const _ of kv.list({ prefix: [] })) {
      assert.fail("nothing may be written");
    }
    // Just under the limit is fine.
    await store.set("near", {
      data: { s: "x".repeat(65_480) },
      expires: Date.now() + 1000,
    });
  } finally {
    kv.close();
  }
});

Deno.test("DenoKvStore: a prefix too long for Deno KV's 2 KiB keys is refused at creation, odd keys at save", async () => {
  assert.throws(
    () => new DenoKvStore(new RecordingKv(), { prefix: ["p".repeat(2002)] }),
    /DenoKvStore: with this prefix a session key takes 2049 bytes, over Deno KV's 2048-byte key limit; use a shorter prefix/,
  );
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new DenoKvStore(kv, { prefix: ["p".repeat(2001)] });
    await store.set("i".repeat(43), { data: {}, expires: Date.now() + 1000 }); // the largest that fits
    await assert.rejects(
      () => store.set("i".repeat(44), { data: {}, expires: Date.now() + 1000 }),
      /the session key is 2049 bytes, over Deno KV's 2048-byte key limit/,
    );
  } finally {
    kv.close();
  }
});

Deno.test("DenoKvStore refuses what is not a database or a key prefix", () => {
  for (const kv of [null, {}, { get() {}, set() {} }]) {
    assert.throws(
      () => new DenoKvStore(kv as never),
      /pass an open Deno KV database/,
    );
  }
  for (const prefix of ["sessions", [{}], [null]]) {
    assert.throws(
      () => new DenoKvStore(new RecordingKv(), { prefix: prefix as never }),
      /prefix must be an array of Deno KV key parts/,
    );
  }
});

Deno.test("stores/deno_kv.ts opens nothing when imported", async () => {
  // Without --unstable-kv, Deno.openKv does not exist: importing must still work.
  const url = new URL("../stores/deno_kv.ts", import.meta.url).href;
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--no-config",
      `await import(${JSON.stringify(url)}); console.log("ok")`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(success, new TextDecoder().decode(stderr));
});
