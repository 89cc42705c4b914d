// DenoKvStore: native expiry, the read-time expiry check, Deno KV's size
// limits, its options.
import assert from "node:assert/strict";
import {
  DenoKvStore,
  type KvAtomic,
  type KvDatabase,
  type KvKeyPart,
} from "../../stores/deno_kv.ts";
import { type SessionRecord, userSessions } from "../../mod.ts";
import {
  basicApp,
  Jar,
  storeKey,
  usersApp,
  withFakeTime,
} from "../_helpers.ts";

/** A KvDatabase that records what it is asked. */
class RecordingKv implements KvDatabase {
  readonly calls: [string, readonly KvKeyPart[], unknown?][] = [];
  readonly map = new Map<string, { value: unknown; versionstamp: string }>();
  #version = 0;
  get(key: readonly KvKeyPart[]) {
    this.calls.push(["get", key]);
    const entry = this.map.get(JSON.stringify(key));
    return Promise.resolve(entry ?? { value: null, versionstamp: null });
  }
  set(
    key: readonly KvKeyPart[],
    value: unknown,
    options?: { expireIn?: number },
  ) {
    this.calls.push(["set", key, options]);
    const versionstamp = String(++this.#version);
    this.map.set(JSON.stringify(key), { value, versionstamp });
    return Promise.resolve({ ok: true, versionstamp });
  }
  delete(key: readonly KvKeyPart[]) {
    this.calls.push(["delete", key]);
    this.map.delete(JSON.stringify(key));
    return Promise.resolve();
  }
  atomic(): KvAtomic {
    const checks: { key: readonly KvKeyPart[]; versionstamp: string | null }[] =
      [];
    const writes: [readonly KvKeyPart[], unknown, { expireIn?: number }?][] =
      [];
    const deletes: (readonly KvKeyPart[])[] = [];
    const op: KvAtomic = {
      check: (...more) => (checks.push(...more), op),
      set: (key, value, options) => (writes.push([key, value, options]), op),
      delete: (key) => (deletes.push(key), op),
      commit: async () => {
        for (const { key, versionstamp } of checks) {
          const current = this.map.get(JSON.stringify(key))?.versionstamp ??
            null;
          if (current !== versionstamp) return { ok: false };
        }
        let versionstamp = "";
        for (const [key, value, options] of writes) {
          versionstamp = (await this.set(key, value, options)).versionstamp;
        }
        for (const key of deletes) await this.delete(key);
        return { ok: true, versionstamp };
      },
    };
    return op;
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
    const id = await storeKey(jar.get("sid")!);
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
      typeof kv.map.get(JSON.stringify(["app", "s", id]))?.value,
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
  // The project's import map without "unstable": ["kv"], so Deno.openKv
  // does not even exist: the import must still work.
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  );
  delete config.unstable;
  const root = new URL("../../", import.meta.url).pathname;
  for (const [name, target] of Object.entries(config.imports)) {
    if (String(target).startsWith("./")) {
      config.imports[name] = root + String(target).slice(2);
    }
  }
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify(config));
  const url = new URL("../../stores/deno_kv.ts", import.meta.url).href;
  const code = `
    console.log(typeof Deno.openKv);
    const { DenoKvStore } = await import(${JSON.stringify(url)});
    console.log(typeof DenoKvStore);
  `;
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", `${dir}/deno.json`, code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  assert.ok(success, new TextDecoder().decode(stderr));
  assert.equal(new TextDecoder().decode(stdout).trim(), "undefined\nfunction");
});

Deno.test("DenoKvStore: a user's index entry is written with the session and expires with it", async () => {
  const kv = new RecordingKv();
  const store = new DenoKvStore(kv, { prefix: ["app"] });
  const jar = new Jar(usersApp(store, 600));
  await jar.fetch("/signin?user=u-1", { method: "POST" });
  const id = storeKey(jar.get("sid")!);
  const writes = kv.calls.filter(([op]) => op === "set");
  const session = writes.find(([, key]) => key.length === 2 && key[1] === id);
  const index = writes.find(([, key]) =>
    JSON.stringify(key) === JSON.stringify(["app", 0, "u-1", id])
  );
  assert.ok(session && index, JSON.stringify(writes));
  const expireIn = (session[2] as { expireIn: number }).expireIn;
  assert.ok(
    Math.abs((index[2] as { expireIn: number }).expireIn - expireIn) < 50,
  );
  assert.ok(expireIn > 599_000 && expireIn <= 600_000);
});

Deno.test("DenoKvStore: index entries of ended and expired sessions go; a second store on the same database revokes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hono-session-kv-users-" });
  const kv1 = await Deno.openKv(`${dir}/s.kv`);
  const kv2 = await Deno.openKv(`${dir}/s.kv`);
  try {
    const store = new DenoKvStore(kv1);
    const other = new DenoKvStore(kv2); // another instance of the app
    const indexed = async (user: string) =>
      (await Array.fromAsync(kv1.list({ prefix: ["sessions", 0, user] })))
        .length;
    const a = new Jar(usersApp(store, 600));
    const b = new Jar(usersApp(store, 600));
    await a.fetch("/signin?user=u-2", { method: "POST" });
    await b.fetch("/signin?user=u-2", { method: "POST" });
    assert.equal(await indexed("u-2"), 2);
    await b.fetch("/logout", { method: "POST" });
    assert.equal(await indexed("u-2"), 1, "the signed-out one's entry went");
    assert.equal((await userSessions(other).list("u-2")).length, 1);
    assert.equal(await userSessions(other).revokeAll("u-2"), 1);
    assert.deepEqual(await a.text("/read"), [200, "-"]);
    assert.equal((await store.listUser("u-2")).length, 0);
    assert.equal(await indexed("u-2"), 0);

    const short = new Jar(usersApp(store, 0.3));
    await short.fetch("/signin?user=u-3", { method: "POST" });
    assert.equal(await indexed("u-3"), 1);
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(await store.listUser("u-3"), []);
    assert.equal(await indexed("u-3"), 0, "the expired one's entry went");
  } finally {
    kv1.close();
    kv2.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DenoKvStore: a second store object on the database knows the request's own session; a sign-in as someone else moves the index entry", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new DenoKvStore(kv);
    const sessions = userSessions(new DenoKvStore(kv));
    const app = usersApp(store, 600)
      .get(
        "/list",
        async (c) =>
          c.json((await sessions.list("u-1", c)).map((s) => s.current)),
      )
      .post(
        "/others",
        async (c) =>
          c.text(String(await sessions.revokeAll("u-1", { except: c }))),
      );
    const laptop = new Jar(app);
    const phone = new Jar(app);
    await laptop.fetch("/signin?user=u-1", { method: "POST" });
    await phone.fetch("/signin?user=u-1", { method: "POST" });
    assert.deepEqual(
      [...await (await laptop.fetch("/list")).json()].sort(),
      [false, true],
    );
    assert.deepEqual(await laptop.text("/others", { method: "POST" }), [
      200,
      "1",
    ]);
    assert.deepEqual(await laptop.text("/read"), [200, "u-1"]);
    assert.deepEqual(await phone.text("/read"), [200, "-"]);
    // The laptop signs in as u-9: nothing of it stays under u-1.
    await laptop.fetch("/signin?user=u-9", { method: "POST" });
    const under = async (user: string) =>
      (await Array.fromAsync(kv.list({ prefix: ["sessions", 0, user] })))
        .length;
    assert.equal(await under("u-1"), 0);
    assert.equal(await under("u-9"), 1);
  } finally {
    kv.close();
  }
});

Deno.test("DenoKvStore: listUser never drops the index entry of a session saved again while it looked", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new DenoKvStore(kv);
    const id = "x".repeat(43);
    const record = (ttl: number): SessionRecord => ({
      data: {},
      expires: Date.now() + ttl,
      user: "u-1",
      handle: "h".repeat(22),
    });
    await store.set(id, record(50));
    await new Promise((r) => setTimeout(r, 80)); // past its deadline
    // A request saves it again (it loaded it in time) just as listUser
    // prunes: the prune's check sees the new version and keeps the entry.
    const real = kv.atomic.bind(kv);
    let hooked = false;
    (kv as { atomic: () => Deno.AtomicOperation }).atomic = () => {
      const op = real();
      if (hooked) return op;
      hooked = true;
      const commit = op.commit.bind(op);
      op.commit = async () => {
        await kv.set(store.key(id), JSON.stringify(record(60_000)));
        return await commit();
      };
      return op;
    };
    assert.deepEqual(await store.listUser("u-1"), []);
    assert.equal(
      (await store.listUser("u-1")).length,
      1,
      "the session saved meanwhile is still listed",
    );
  } finally {
    kv.close();
  }
});

Deno.test("DenoKvStore: a user index key over Deno KV's limit is a RangeError before Deno KV is asked, NUL characters counted", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new DenoKvStore(kv, { prefix: ["p".repeat(1100)] });
    const record: SessionRecord = {
      data: {},
      expires: Date.now() + 60_000,
      user: "\0".repeat(512),
      handle: "h".repeat(22),
    };
    await assert.rejects(
      store.set("x".repeat(43), record),
      (e: unknown) =>
        e instanceof RangeError && /user index key/.test((e as Error).message),
    );
  } finally {
    kv.close();
  }
});

Deno.test("DenoKvStore: an index entry naming another user's session (left by a tool, or lagging) is not listed, and the session lives on", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new DenoKvStore(kv);
    const jar = new Jar(usersApp(store, 600));
    await jar.fetch("/signin?user=bob", { method: "POST" });
    const id = storeKey(jar.get("sid")!);
    // Bob's session, named in Alice's index.
    await kv.set(["sessions", 0, "alice", id], Date.now() + 60_000);
    assert.deepEqual(await store.listUser("alice"), []);
    assert.deepEqual(
      (await store.listUser("bob")).map((entry) => entry.id),
      [id],
    );
    assert.deepEqual(await jar.text("/read"), [200, "bob"]);
  } finally {
    kv.close();
  }
});

Deno.test("DenoKvStore: a session regenerate() moves between the listing's index read and its record reads is listed at its new id, and revoked", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    // The database as the store sees it, whose list() runs `between` once
    // the listing has read the whole index and before it reads a record.
    let between: (() => Promise<void>) | undefined;
    const shaped = new Proxy(kv, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property !== "list") {
          return typeof value === "function" ? value.bind(target) : value;
        }
        return (...args: Parameters<Deno.Kv["list"]>) =>
          (async function* () {
            yield* target.list(...args);
            const run = between;
            between = undefined;
            await run?.();
          })();
      },
    });
    const store = new DenoKvStore(shaped as unknown as KvDatabase);
    const record: SessionRecord = {
      data: { n: 1 },
      expires: Date.now() + 60_000,
      user: "u-1",
      handle: "h".repeat(22),
    };
    for (
      const [i, end] of (["list", "revokeAll", "revoke"] as const).entries()
    ) {
      const from = String(i).repeat(43);
      const to = String(i + 5).repeat(43);
      await store.set(from, record);
      // A regenerate(): it read the session, and moves it to a new id
      // (its index entry with it) while the listing is between its steps.
      const c = {};
      await store.get(from, c);
      between = () => store.replace(from, to, record, c);
      if (end === "list") {
        assert.deepEqual(
          (await store.listUser("u-1")).map((e) => e.id),
          [to],
          "listed where it moved",
        );
        await store.delete(to);
      } else if (end === "revokeAll") {
        assert.equal(await userSessions(store).revokeAll("u-1"), 1);
      } else {
        assert.equal(
          await userSessions(store).revoke("u-1", record.handle!),
          true,
        );
      }
      assert.equal(between, undefined, `${end}: the move ran`);
      assert.equal(await store.get(to), undefined, `${end}: the session ended`);
      assert.deepEqual(await store.listUser("u-1"), [], end);
    }
  } finally {
    kv.close();
  }
});
